// A ValueNetView over any owner of the parameter buffers: anything with members dims, E, P, b0,
// W1, b1, w2 (contiguous float containers) and b2, such as ValueModel or the kernel tests' nets.
#pragma once
#include "native/kernels/value_net.h"

namespace iro {

template <class Params>
ValueNetView value_net_view(const Params& p) {
  ValueNetView v;
  v.dims = p.dims;
  v.E = p.E.data();
  v.P = p.dims.d_dense > 0 ? p.P.data() : nullptr;
  v.b0 = p.b0.data();
  v.W1 = p.W1.data();
  v.b1 = p.b1.data();
  v.w2 = p.w2.data();
  v.b2 = p.b2;
  return v;
}

}  // namespace iro
