// libtiff (Debian's libtiff-dev), used for reading and writing grey TIFF images and stacks.
#include <tiffio.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

// TIFFGetField/TIFFSetField are variadic and libtiff reports errors through handlers, so every libtiff
// call lives in these C functions: Swift sees fixed signatures, status codes and a message buffer.
// Files are read from and written to memory (TIFFClientOpenExt), so readers can be fuzzed on bytes.

/// TIFF bytes in memory being read or written (or a file being read), and the first libtiff error message.
typedef struct {
    unsigned char *data;      // read: the caller's bytes; write: a malloc'd buffer (free with filterjit_tiff_buffer_free)
    size_t size;              // the bytes (or the file's size when reading a file)
    size_t capacity;
    size_t position;
    int writable;
    char message[256];
    int fromFile;             // read with pread(2) from `descriptor` instead of from `data`
    int descriptor;
} filterjit_tiff_buffer;

/// One page's layout and the tags FilterJIT carries from an input to its output.
typedef struct {
    uint32_t width, height;
    uint16_t bitsPerSample, sampleFormat, samplesPerPixel, photometric, planar, resolutionUnit, compression;
    int tiled, hasResolution;
    float xResolution, yResolution;
    const char *description;  // owned by libtiff until the next directory; NULL when absent
} filterjit_tiff_page;

static int filterjit_tiff_error_handler(TIFF *tif, void *user, const char *module, const char *format, va_list arguments) {
    (void)tif; (void)module;
    filterjit_tiff_buffer *buffer = (filterjit_tiff_buffer *)user;
    if (buffer && buffer->message[0] == 0) vsnprintf(buffer->message, sizeof buffer->message, format, arguments);
    return 1;  // handled: libtiff prints nothing
}

static int filterjit_tiff_warning_handler(TIFF *tif, void *user, const char *module, const char *format, va_list arguments) {
    (void)tif; (void)user; (void)module; (void)format; (void)arguments;
    return 1;  // warnings (unknown tags, ...) are not errors; stay quiet
}

static tmsize_t filterjit_tiff_read_proc(thandle_t handle, void *out, tmsize_t count) {
    filterjit_tiff_buffer *buffer = (filterjit_tiff_buffer *)handle;
    if (count < 0 || buffer->position > buffer->size) return 0;
    size_t available = buffer->size - buffer->position;
    size_t n = (size_t)count < available ? (size_t)count : available;
    if (buffer->fromFile) {
        // Straight from the file into libtiff's buffer, or for an uncompressed strip into the caller's
        // pixels: no copy of the whole file in memory first. A file that shrank reads short (an error).
        size_t done = 0;
        while (done < n) {
            ssize_t got = pread(buffer->descriptor, (unsigned char *)out + done, n - done, (off_t)(buffer->position + done));
            if (got < 0 && errno == EINTR) continue;
            if (got <= 0) break;
            done += (size_t)got;
        }
        buffer->position += done;
        return (tmsize_t)done;
    }
    if (n) memcpy(out, buffer->data + buffer->position, n);
    buffer->position += n;
    return (tmsize_t)n;
}

static tmsize_t filterjit_tiff_write_proc(thandle_t handle, void *in, tmsize_t count) {
    filterjit_tiff_buffer *buffer = (filterjit_tiff_buffer *)handle;
    if (!buffer->writable || count < 0) return -1;
    size_t end = buffer->position + (size_t)count;
    if (end < buffer->position) return -1;
    if (end > buffer->capacity) {
        size_t capacity = buffer->capacity ? buffer->capacity : 65536;
        while (capacity < end) {
            if (capacity > SIZE_MAX / 2) return -1;
            capacity *= 2;
        }
        unsigned char *grown = (unsigned char *)realloc(buffer->data, capacity);
        if (!grown) return -1;
        buffer->data = grown;
        buffer->capacity = capacity;
    }
    if (buffer->position > buffer->size) memset(buffer->data + buffer->size, 0, buffer->position - buffer->size);
    if (count) memcpy(buffer->data + buffer->position, in, (size_t)count);
    buffer->position = end;
    if (end > buffer->size) buffer->size = end;
    return count;
}

static toff_t filterjit_tiff_seek_proc(thandle_t handle, toff_t offset, int whence) {
    filterjit_tiff_buffer *buffer = (filterjit_tiff_buffer *)handle;
    uint64_t base = whence == SEEK_CUR ? buffer->position : whence == SEEK_END ? buffer->size : 0;
    uint64_t target = base + offset;
    if (target > ((uint64_t)1 << 40)) return (toff_t)-1;
    buffer->position = (size_t)target;
    return target;
}

static int filterjit_tiff_close_proc(thandle_t handle) { (void)handle; return 0; }
static toff_t filterjit_tiff_size_proc(thandle_t handle) { return ((filterjit_tiff_buffer *)handle)->size; }
static int filterjit_tiff_map_proc(thandle_t handle, void **base, toff_t *size) { (void)handle; (void)base; (void)size; return 0; }
static void filterjit_tiff_unmap_proc(thandle_t handle, void *base, toff_t size) { (void)handle; (void)base; (void)size; }

/// Opens `buffer` with libtiff in `mode` ("r", or "w"/"w8" for classic/BigTIFF writing); NULL on failure.
/// `maximumAllocation` bounds every single allocation libtiff makes (hostile strip sizes).
static inline TIFF *filterjit_tiff_open(filterjit_tiff_buffer *buffer, const char *mode, int64_t maximumAllocation) {
    TIFFOpenOptions *options = TIFFOpenOptionsAlloc();
    if (!options) { strcpy(buffer->message, "cannot allocate libtiff options"); return NULL; }
    TIFFOpenOptionsSetErrorHandlerExtR(options, filterjit_tiff_error_handler, buffer);
    TIFFOpenOptionsSetWarningHandlerExtR(options, filterjit_tiff_warning_handler, buffer);
    TIFFOpenOptionsSetMaxSingleMemAlloc(options, (tmsize_t)maximumAllocation);
    buffer->position = 0;
    // 'm': never memory-map (the procs above say no anyway).
    char fullMode[8];
    snprintf(fullMode, sizeof fullMode, "%sm", mode);
    TIFF *tif = TIFFClientOpenExt("memory", fullMode, (thandle_t)buffer, filterjit_tiff_read_proc,
                                  filterjit_tiff_write_proc, filterjit_tiff_seek_proc, filterjit_tiff_close_proc,
                                  filterjit_tiff_size_proc, filterjit_tiff_map_proc, filterjit_tiff_unmap_proc, options);
    TIFFOpenOptionsFree(options);
    if (!tif && buffer->message[0] == 0) strcpy(buffer->message, "not a TIFF file");
    return tif;
}

static inline void filterjit_tiff_close(TIFF *tif) { TIFFClose(tif); }
static inline void filterjit_tiff_buffer_free(filterjit_tiff_buffer *buffer) { free(buffer->data); buffer->data = NULL; }

/// Moves to the next page; 1 when there is one, 0 at the end (or on a broken directory: see message).
static inline int filterjit_tiff_next_page(TIFF *tif) { return TIFFReadDirectory(tif); }

/// Fills `page` from the current directory. Returns 1, or 0 when a required tag is unreadable.
static inline int filterjit_tiff_page_info(TIFF *tif, filterjit_tiff_page *page) {
    memset(page, 0, sizeof *page);
    if (!TIFFGetField(tif, TIFFTAG_IMAGEWIDTH, &page->width) || !TIFFGetField(tif, TIFFTAG_IMAGELENGTH, &page->height))
        return 0;
    TIFFGetFieldDefaulted(tif, TIFFTAG_BITSPERSAMPLE, &page->bitsPerSample);
    TIFFGetFieldDefaulted(tif, TIFFTAG_SAMPLEFORMAT, &page->sampleFormat);
    TIFFGetFieldDefaulted(tif, TIFFTAG_SAMPLESPERPIXEL, &page->samplesPerPixel);
    TIFFGetFieldDefaulted(tif, TIFFTAG_PLANARCONFIG, &page->planar);
    TIFFGetFieldDefaulted(tif, TIFFTAG_COMPRESSION, &page->compression);
    if (!TIFFGetField(tif, TIFFTAG_PHOTOMETRIC, &page->photometric)) page->photometric = PHOTOMETRIC_MINISBLACK;
    page->tiled = TIFFIsTiled(tif);
    page->hasResolution = TIFFGetField(tif, TIFFTAG_XRESOLUTION, &page->xResolution)
        && TIFFGetField(tif, TIFFTAG_YRESOLUTION, &page->yResolution);
    TIFFGetFieldDefaulted(tif, TIFFTAG_RESOLUTIONUNIT, &page->resolutionUnit);
    char *description = NULL;
    if (TIFFGetField(tif, TIFFTAG_IMAGEDESCRIPTION, &description)) page->description = description;
    return 1;
}

/// Decodes the current page (one sample per pixel) into `pixels`: `height` rows of `rowBytes` bytes,
/// in host byte order. Returns 1, or 0 on a decoding error (see message).
static inline int filterjit_tiff_read_page(TIFF *tif, filterjit_tiff_buffer *buffer, unsigned char *pixels,
                                           uint32_t width, uint32_t height, size_t rowBytes) {
    if (TIFFScanlineSize64(tif) != (uint64_t)rowBytes && !TIFFIsTiled(tif)) {
        strcpy(buffer->message, "unexpected scanline size");
        return 0;
    }
    if (!TIFFIsTiled(tif)) {
        uint32_t rowsPerStrip = 0;
        TIFFGetFieldDefaulted(tif, TIFFTAG_ROWSPERSTRIP, &rowsPerStrip);
        if (rowsPerStrip == 0 || rowsPerStrip > height) rowsPerStrip = height;
        uint32_t strips = TIFFNumberOfStrips(tif);
        for (uint32_t row = 0, strip = 0; row < height; row += rowsPerStrip, strip++) {
            if (strip >= strips) { strcpy(buffer->message, "the file has fewer strips than rows need"); return 0; }
            uint32_t rows = height - row < rowsPerStrip ? height - row : rowsPerStrip;
            tmsize_t want = (tmsize_t)(rows * rowBytes);
            if (TIFFReadEncodedStrip(tif, strip, pixels + (size_t)row * rowBytes, want) != want) {
                if (buffer->message[0] == 0) snprintf(buffer->message, sizeof buffer->message, "strip %u is truncated", strip);
                return 0;
            }
        }
        return 1;
    }
    uint32_t tileWidth = 0, tileHeight = 0;
    if (!TIFFGetField(tif, TIFFTAG_TILEWIDTH, &tileWidth) || !TIFFGetField(tif, TIFFTAG_TILELENGTH, &tileHeight)
        || tileWidth == 0 || tileHeight == 0) {
        strcpy(buffer->message, "a tiled page without a tile size");
        return 0;
    }
    size_t sampleBytes = width ? rowBytes / width : 1;
    tmsize_t tileBytes = TIFFTileSize(tif);
    if (tileBytes <= 0 || (uint64_t)tileBytes != (uint64_t)tileWidth * tileHeight * sampleBytes) {
        strcpy(buffer->message, "unexpected tile size");
        return 0;
    }
    // A tile may overhang the page, but one larger than both the page and 16 MiB is a hostile header
    // (found by FuzzReaders: a tile claiming 195 GB), refused before allocating it.
    uint64_t pageBytes = (uint64_t)rowBytes * height;
    if ((uint64_t)tileBytes > (pageBytes > ((uint64_t)1 << 24) ? pageBytes : ((uint64_t)1 << 24))) {
        snprintf(buffer->message, sizeof buffer->message, "a tile of %llu bytes is larger than its %llu-byte page",
                 (unsigned long long)tileBytes, (unsigned long long)pageBytes);
        return 0;
    }
    unsigned char *tile = (unsigned char *)_TIFFmalloc(tileBytes);
    if (!tile) { strcpy(buffer->message, "out of memory for a tile"); return 0; }
    /* libtiff may report a corrupt tile (or strip) as read in full without writing all of it. */
    memset(tile, 0, (size_t)tileBytes);
    for (uint32_t y = 0; y < height; y += tileHeight) {
        for (uint32_t x = 0; x < width; x += tileWidth) {
            if (TIFFReadTile(tif, tile, x, y, 0, 0) != tileBytes) {
                if (buffer->message[0] == 0) snprintf(buffer->message, sizeof buffer->message, "the tile at (%u, %u) is truncated", x, y);
                _TIFFfree(tile);
                return 0;
            }
            uint32_t rows = height - y < tileHeight ? height - y : tileHeight;
            uint32_t columns = width - x < tileWidth ? width - x : tileWidth;
            for (uint32_t r = 0; r < rows; r++) {
                memcpy(pixels + (size_t)(y + r) * rowBytes + (size_t)x * sampleBytes,
                       tile + (size_t)r * tileWidth * sampleBytes, (size_t)columns * sampleBytes);
            }
        }
    }
    _TIFFfree(tile);
    return 1;
}

/// Writes one uncompressed grey page of `height` rows of `rowBytes` bytes (host byte order) with the
/// given tags (`description` may be NULL; resolution only when `hasResolution`). Returns 1, or 0 (see message).
static inline int filterjit_tiff_write_page(TIFF *tif, filterjit_tiff_buffer *buffer, const unsigned char *pixels,
                                            uint32_t width, uint32_t height, size_t rowBytes,
                                            uint16_t bitsPerSample, uint16_t sampleFormat,
                                            int pageIndex, int pageCount, const char *description,
                                            int hasResolution, float xResolution, float yResolution,
                                            uint16_t resolutionUnit) {
    TIFFSetField(tif, TIFFTAG_IMAGEWIDTH, width);
    TIFFSetField(tif, TIFFTAG_IMAGELENGTH, height);
    TIFFSetField(tif, TIFFTAG_BITSPERSAMPLE, bitsPerSample);
    TIFFSetField(tif, TIFFTAG_SAMPLEFORMAT, sampleFormat);
    TIFFSetField(tif, TIFFTAG_SAMPLESPERPIXEL, (uint16_t)1);
    TIFFSetField(tif, TIFFTAG_PHOTOMETRIC, (uint16_t)PHOTOMETRIC_MINISBLACK);
    TIFFSetField(tif, TIFFTAG_PLANARCONFIG, (uint16_t)PLANARCONFIG_CONTIG);
    TIFFSetField(tif, TIFFTAG_COMPRESSION, (uint16_t)COMPRESSION_NONE);
    TIFFSetField(tif, TIFFTAG_ROWSPERSTRIP, TIFFDefaultStripSize(tif, 0));
    TIFFSetField(tif, TIFFTAG_SOFTWARE, "FilterJIT");
    if (pageCount > 1) {
        TIFFSetField(tif, TIFFTAG_SUBFILETYPE, (uint32_t)FILETYPE_PAGE);
        TIFFSetField(tif, TIFFTAG_PAGENUMBER, (uint16_t)pageIndex, (uint16_t)pageCount);
    }
    if (description) TIFFSetField(tif, TIFFTAG_IMAGEDESCRIPTION, description);
    if (hasResolution) {
        TIFFSetField(tif, TIFFTAG_XRESOLUTION, xResolution);
        TIFFSetField(tif, TIFFTAG_YRESOLUTION, yResolution);
        TIFFSetField(tif, TIFFTAG_RESOLUTIONUNIT, resolutionUnit);
    }
    // Whole strips, not rows: for uncompressed data libtiff appends a strip straight from `pixels` (no
    // per-row copy into its own strip buffer); the file's bytes are the same as row-by-row writing gives.
    // Native byte order and fill order, so libtiff does not swap or reverse the (caller's, const) pixels.
    uint32_t rowsPerStrip = 0;
    TIFFGetFieldDefaulted(tif, TIFFTAG_ROWSPERSTRIP, &rowsPerStrip);
    if (rowsPerStrip == 0 || rowsPerStrip > height) rowsPerStrip = height;
    for (uint32_t row = 0, strip = 0; row < height; row += rowsPerStrip, strip++) {
        uint32_t rows = height - row < rowsPerStrip ? height - row : rowsPerStrip;
        tmsize_t bytes = (tmsize_t)((size_t)rows * rowBytes);
        if (TIFFWriteEncodedStrip(tif, strip, (void *)(pixels + (size_t)row * rowBytes), bytes) != bytes) {
            if (buffer->message[0] == 0) snprintf(buffer->message, sizeof buffer->message, "cannot write strip %u", strip);
            return 0;
        }
    }
    if (!TIFFWriteDirectory(tif)) {
        if (buffer->message[0] == 0) strcpy(buffer->message, "cannot write the page's directory");
        return 0;
    }
    return 1;
}
