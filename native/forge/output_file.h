// Output files of the forge: checked before any work starts, written to a temporary sibling and
// renamed into place only when complete, so a failed forge never leaves a half-written model.
#pragma once
#include <string>

namespace iro::forge {

// Throws INVALID_ARGUMENT for an empty path or a directory, IO_ERROR when the parent folder is
// missing or not writable.
void check_output_path(const std::string& path);

class AtomicOutput {
 public:
  explicit AtomicOutput(std::string path);
  ~AtomicOutput();  // removes the temporary file unless committed
  AtomicOutput(const AtomicOutput&) = delete;
  AtomicOutput& operator=(const AtomicOutput&) = delete;

  const std::string& temp_path() const { return temp_; }
  const std::string& path() const { return path_; }
  // Renames the temporary file over the target. Throws IO_ERROR.
  void commit();

 private:
  std::string path_, temp_;
  bool committed_ = false;
};

}  // namespace iro::forge
