#include "native/forge/output_file.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "native/common/error.h"

namespace iro::forge {
namespace {

std::string parent_of(const std::string& path) {
  const auto slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

}  // namespace

void check_output_path(const std::string& path) {
  IRO_REQUIRE_ARG(!path.empty(), "output path is empty");
  struct stat st {};
  if (stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
    fail(codes::kInvalidArgument, "output path is a directory: " + path + " (give a file name, e.g. " + path + "/model.gguf)");
  }
  const std::string dir = parent_of(path);
  if (stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    fail(codes::kIo, "cannot write " + path + ": folder " + dir + " does not exist (create it first)");
  }
  if (access(dir.c_str(), W_OK) != 0) fail(codes::kIo, "cannot write " + path + ": folder " + dir + " is not writable");
  if (stat(path.c_str(), &st) == 0 && access(path.c_str(), W_OK) != 0) {
    fail(codes::kIo, "cannot write " + path + ": the existing file is not writable");
  }
}

AtomicOutput::AtomicOutput(std::string path) : path_(std::move(path)) {
  char suffix[64];
  std::snprintf(suffix, sizeof suffix, ".partial-%ld-%p", static_cast<long>(getpid()), static_cast<void*>(this));
  temp_ = path_ + suffix;
}

AtomicOutput::~AtomicOutput() {
  if (!committed_) std::remove(temp_.c_str());
}

void AtomicOutput::commit() {
  if (std::rename(temp_.c_str(), path_.c_str()) != 0) {
    fail(codes::kIo, "cannot move the finished model to " + path_ + ": " + std::strerror(errno));
  }
  committed_ = true;
}

}  // namespace iro::forge
