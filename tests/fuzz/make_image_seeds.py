#!/usr/bin/env python3
"""make_image_seeds.py OUT_DIR - writes the small image seeds of the image fuzzer.

Python standard library only, plus cjpeg/jpegtran (libjpeg-turbo-progs) for the JPEG variants
when they are installed. The committed seeds in tests/data/fuzz/seeds/image/ were made with it; run
it again only to change them. Every variant the decoder has a separate path for gets one file:
PNG colour types, bit depths, palette + tRNS and Adam7 interlacing; BMP 24/32/8/4-bit, bottom-up
and top-down; TGA true-colour, gray, colour-mapped and RLE; JPEG baseline 4:2:0 / 4:4:4, gray,
progressive and with restart markers; and the formats stb_image also decodes (PNM, HDR, PSD).
"""
import os
import random
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib

W, H = 7, 5
rng = random.Random(1)
RGB = [(rng.randrange(256), rng.randrange(256), rng.randrange(256)) for _ in range(W * H)]


def png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png(color_type, depth, rows, palette=None, trns=None, interlace=0):
    """rows: the filtered scanlines' raw bytes (without the filter byte)."""
    out = b"\x89PNG\r\n\x1a\n" + png_chunk(
        b"IHDR", struct.pack(">IIBBBBB", W, H, depth, color_type, 0, 0, interlace))
    if palette:
        out += png_chunk(b"PLTE", b"".join(bytes(c) for c in palette))
    if trns:
        out += png_chunk(b"tRNS", trns)
    out += png_chunk(b"IDAT", zlib.compress(b"".join(rows)))
    return out + png_chunk(b"IEND", b"")


def plain_rows(pixel_bytes):
    return [b"\0" + b"".join(pixel_bytes(x, y) for x in range(W)) for y in range(H)]


def adam7_rows(pixel_bytes):
    passes = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2),
              (0, 1, 1, 2)]
    rows = []
    for x0, y0, dx, dy in passes:
        xs = list(range(x0, W, dx))
        for y in range(y0, H, dy):
            if xs:
                rows.append(b"\0" + b"".join(pixel_bytes(x, y) for x in xs))
    return rows


def rgb_at(x, y):
    return bytes(RGB[y * W + x])


def gray_at(x, y):
    r, g, b = RGB[y * W + x]
    return bytes([(r + g + b) // 3])


def packed_rows(bits, value_at):
    rows = []
    for y in range(H):
        acc, n, row = 0, 0, bytearray(b"\0")
        for x in range(W):
            acc = (acc << bits) | value_at(x, y)
            n += bits
            if n == 8:
                row.append(acc)
                acc, n = 0, 0
        if n:
            row.append(acc << (8 - n))
        rows.append(bytes(row))
    return rows


def png_seeds():
    palette = [RGB[i] for i in range(16)]
    return {
        "rgb8.png": png(2, 8, plain_rows(rgb_at)),
        "rgba8.png": png(6, 8, plain_rows(lambda x, y: rgb_at(x, y) + bytes([x * 30]))),
        "gray8.png": png(0, 8, plain_rows(gray_at)),
        "gray_alpha8.png": png(4, 8, plain_rows(lambda x, y: gray_at(x, y) + b"\x80")),
        "rgb16.png": png(2, 16, plain_rows(lambda x, y: b"".join(bytes([c, c]) for c in RGB[y * W + x]))),
        "gray1.png": png(0, 1, packed_rows(1, lambda x, y: (x + y) & 1)),
        "palette4_trns.png": png(3, 4, packed_rows(4, lambda x, y: (x + y * W) % 16), palette,
                                 trns=bytes([0, 128])),
        "rgb8_adam7.png": png(2, 8, adam7_rows(rgb_at), interlace=1),
    }


def bmp(bits, rows_bottom_up=True, palette=None):
    row_bytes = ((W * bits + 31) // 32) * 4
    pixels = bytearray()
    order = range(H - 1, -1, -1) if rows_bottom_up else range(H)
    for y in order:
        row = bytearray()
        if bits == 24:
            for x in range(W):
                r, g, b = RGB[y * W + x]
                row += bytes([b, g, r])
        elif bits == 32:
            for x in range(W):
                r, g, b = RGB[y * W + x]
                row += bytes([b, g, r, 255])
        elif bits == 8:
            row += bytes((x + y) % len(palette) for x in range(W))
        elif bits == 4:
            row += packed_rows(4, lambda x, yy: (x + yy) % len(palette))[y][1:]
        pixels += row + b"\0" * (row_bytes - len(row))
    pal = b"".join(bytes([b, g, r, 0]) for r, g, b in (palette or []))
    offset = 14 + 40 + len(pal)
    info = struct.pack("<IiiHHIIiiII", 40, W, H if rows_bottom_up else -H, 1, bits, 0,
                       len(pixels), 2835, 2835, len(palette or []), 0)
    return b"BM" + struct.pack("<IHHI", offset + len(pixels), 0, 0, offset) + info + pal + bytes(pixels)


def tga(image_type, bits, data, cmap=None):
    cmap = cmap or b""
    header = struct.pack("<BBBHHBHHHHBB", 0, 1 if cmap else 0, image_type, 0,
                         len(cmap) // 3 if cmap else 0, 24 if cmap else 0, 0, 0, W, H, bits,
                         0x20)
    return header + cmap + data


def tga_rle(pixels, size):
    out = bytearray()
    for i in range(0, len(pixels), size * 2):  # runs of 2 raw pixels, then one repeated
        chunk = pixels[i:i + size * 2]
        out += bytes([len(chunk) // size - 1]) + chunk
    return bytes(out)


def tga_seeds():
    bgr = b"".join(bytes([b, g, r]) for r, g, b in RGB)
    gray = b"".join(gray_at(i % W, i // W) for i in range(W * H))
    cmap = b"".join(bytes([b, g, r]) for r, g, b in RGB[:8])
    return {
        "rgb24.tga": tga(2, 24, bgr),
        "gray8.tga": tga(3, 8, gray),
        "colormap8.tga": tga(1, 8, bytes(i % 8 for i in range(W * H)), cmap),
        "rgb24_rle.tga": tga(10, 24, tga_rle(bgr, 3)),
        "repeat_rle.tga": tga(10, 24, bytes([0x80 | (W * H - 1)]) + bgr[:3]),
    }


def other_seeds():
    ppm = b"P6\n%d %d\n255\n" % (W, H) + b"".join(bytes(c) for c in RGB)
    pgm = b"P5\n%d %d\n255\n" % (W, H) + b"".join(gray_at(i % W, i // W) for i in range(W * H))
    hdr = b"#?RADIANCE\nFORMAT=32-bit_rle_rgbe\n\n-Y %d +X %d\n" % (H, W) + b"".join(
        bytes([r, g, b, 128]) for r, g, b in RGB)
    psd = (b"8BPS" + struct.pack(">H6xHIIHH", 1, 3, H, W, 8, 3) + struct.pack(">I", 0) +
           struct.pack(">I", 0) + struct.pack(">I", 0) + struct.pack(">H", 0) +
           b"".join(bytes(RGB[i][c] for i in range(W * H)) for c in range(3)))
    return {"rgb.ppm": ppm, "gray.pgm": pgm, "rgbe.hdr": hdr, "rgb_raw.psd": psd}


def jpeg_seeds(ppm):
    if not shutil.which("cjpeg"):
        print("cjpeg not found: no JPEG seeds (apt-get install libjpeg-turbo-progs)")
        return {}
    variants = {
        "baseline420.jpg": ["-quality", "90", "-sample", "2x2"],
        "baseline444.jpg": ["-quality", "90", "-sample", "1x1"],
        "gray.jpg": ["-grayscale"],
        "progressive.jpg": ["-progressive"],
        "restart.jpg": ["-restart", "1B"],
        "optimized.jpg": ["-optimize"],
    }
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "in.ppm")
        with open(src, "wb") as f:
            f.write(ppm)
        for name, flags in variants.items():
            out[name] = subprocess.run(["cjpeg"] + flags + [src], check=True,
                                       capture_output=True).stdout
    return out


def main():
    out_dir = sys.argv[1]
    os.makedirs(out_dir, exist_ok=True)
    seeds = {}
    seeds.update(png_seeds())
    palette = RGB[:16]
    seeds.update({
        "rgb24.bmp": bmp(24),
        "rgb32.bmp": bmp(32),
        "rgb24_topdown.bmp": bmp(24, rows_bottom_up=False),
        "palette8.bmp": bmp(8, palette=palette),
        "palette4.bmp": bmp(4, palette=palette),
    })
    seeds.update(tga_seeds())
    others = other_seeds()
    seeds.update(others)
    seeds.update(jpeg_seeds(others["rgb.ppm"]))
    for name, data in sorted(seeds.items()):
        with open(os.path.join(out_dir, name), "wb") as f:
            f.write(data)
    print("%d seeds in %s" % (len(seeds), out_dir))


if __name__ == "__main__":
    main()
