// OpenCC's C API (libopencc-dev on Debian: /usr/include/opencc/opencc.h). Tong uses it once per
// process, to read OpenCC's Traditional-to-Simplified character mappings into a lookup table
// (see Sources/TongStore/TextFold.swift); no text is converted through OpenCC on the hot path.
#include <opencc/opencc.h>
