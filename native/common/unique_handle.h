// std::unique_ptr for a C library handle released by one plain function, so that each handle type
// needs no hand-written deleter struct:
//   UniqueHandle<gguf_context, gguf_free> g(gguf_init_empty());
#pragma once
#include <memory>

namespace iro {

template <auto Release>
struct ReleaseWith {
  template <class T>
  void operator()(T* p) const {
    Release(p);
  }
};

template <class T, auto Release>
using UniqueHandle = std::unique_ptr<T, ReleaseWith<Release>>;

}  // namespace iro
