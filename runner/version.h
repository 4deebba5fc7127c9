// swebox's version: the CMake project version, and `git describe` of the checkout it was built
// from when there was one, e.g. "0.1.0 (git 9347b9e-dirty)". The definition is generated at
// build time (cmake/write_version.cmake).
#pragma once

namespace swebox {

const char* version();

}  // namespace swebox
