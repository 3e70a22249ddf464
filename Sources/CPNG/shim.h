// libpng (Debian's libpng-dev), used for reading and writing PNG images.
#include <png.h>
