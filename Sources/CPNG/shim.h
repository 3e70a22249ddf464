// libpng (Debian's libpng-dev), used for reading and writing PNG images.
#include <png.h>
#include <setjmp.h>
#include <string.h>
#include <stdlib.h>

// libpng reports errors with longjmp, which must never cross Swift frames. The reader below keeps
// setjmp, every libpng call and the longjmp inside one C function, and hands Swift a status code.

/// In-memory PNG bytes being read, and the last libpng error message.
typedef struct {
    const unsigned char *data;
    size_t size;
    size_t position;
    char message[128];
} filterjit_png_reader;

static void filterjit_png_read_bytes(png_structp png, png_bytep out, size_t count) {
    filterjit_png_reader *reader = (filterjit_png_reader *)png_get_io_ptr(png);
    if (reader->size - reader->position < count) {
        png_error(png, "the file is truncated");
    }
    memcpy(out, reader->data + reader->position, count);
    reader->position += count;
}

static void filterjit_png_error(png_structp png, png_const_charp message) {
    filterjit_png_reader *reader = (filterjit_png_reader *)png_get_error_ptr(png);
    strncpy(reader->message, message ? message : "unknown libpng error", sizeof reader->message - 1);
    reader->message[sizeof reader->message - 1] = 0;
    png_longjmp(png, 1);
}

static void filterjit_png_warning(png_structp png, png_const_charp message) {
    (void)png; (void)message;  // warnings are not errors; stay quiet
}

/// Decodes `reader`'s PNG without colour or gamma conversion: palettes and 1/2/4-bit greys are
/// expanded to 8 bits, tRNS becomes an alpha channel, 16-bit samples come out in host byte order.
/// With `pixels == NULL` only fills in width, height, channels (1-4) and bytes per sample (1 or 2).
/// Otherwise `pixels` must hold width * height * channels * bytes per sample bytes.
/// Returns 1 on success, 0 on failure (the message is in `reader->message`).
static inline int filterjit_png_decode(filterjit_png_reader *reader, unsigned char *pixels, size_t capacity,
                                       unsigned int *width, unsigned int *height, int *channels, int *sampleBytes,
                                       unsigned int maximumSide) {
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, reader, filterjit_png_error, filterjit_png_warning);
    if (!png) { strcpy(reader->message, "cannot create a libpng reader"); return 0; }
    png_infop info = png_create_info_struct(png);
    if (!info) { png_destroy_read_struct(&png, NULL, NULL); strcpy(reader->message, "cannot create a libpng info"); return 0; }
    png_bytep *volatile rows = NULL;
    if (setjmp(png_jmpbuf(png))) {
        if (rows) free(rows);
        png_destroy_read_struct(&png, &info, NULL);
        return 0;
    }
    reader->position = 0;
    png_set_read_fn(png, reader, filterjit_png_read_bytes);
    png_set_user_limits(png, maximumSide, maximumSide);
    png_read_info(png, info);
    png_set_expand(png);
    if (png_get_bit_depth(png, info) == 16) png_set_swap(png);
    (void)png_set_interlace_handling(png);
    png_read_update_info(png, info);
    unsigned int w = png_get_image_width(png, info), h = png_get_image_height(png, info);
    int c = png_get_channels(png, info), depth = png_get_bit_depth(png, info);
    *width = w; *height = h; *channels = c; *sampleBytes = depth == 16 ? 2 : 1;
    if (pixels) {
        size_t rowBytes = png_get_rowbytes(png, info);
        if (rowBytes != (size_t)w * (size_t)c * (size_t)(*sampleBytes) || rowBytes * h > capacity) {
            png_error(png, "unexpected row size");
        }
        rows = (png_bytep *)malloc(sizeof(png_bytep) * (h ? h : 1));
        if (!rows) png_error(png, "out of memory");
        for (unsigned int y = 0; y < h; y++) rows[y] = pixels + (size_t)y * rowBytes;
        png_read_image(png, rows);
        png_read_end(png, NULL);
        free(rows);
        rows = NULL;
    }
    png_destroy_read_struct(&png, &info, NULL);
    return 1;
}
