#!/usr/bin/env python3
"""Writes the seeds OpenCV cannot: a GIF and an EXIF-rotated JPEG (run after
make_image_seeds.cpp, which writes rgb.jpg). Usage: make_image_seeds.py DIR"""
import struct
import sys
from pathlib import Path

out = Path(sys.argv[1] if len(sys.argv) > 1 else ".")

# 2x2 GIF89a, 2-colour global table, one LZW-coded frame.
gif = (b"GIF89a" + struct.pack("<HHBBB", 2, 2, 0x80, 0, 0) +
       b"\xc0\x20\x30" + b"\xf0\xf0\xf0" +
       b"\x21\xf9\x04\x01\x00\x00\x01\x00" +  # graphic control: colour 1 transparent
       b"," + struct.pack("<HHHHB", 0, 0, 2, 2, 0) +
       b"\x02\x03\x44\x34\x05\x00" + b";")
(out / "tiny.gif").write_bytes(gif)

# EXIF APP1 with Orientation = 6 (rotate 90 CW), big-endian TIFF header.
ifd = struct.pack(">H", 1) + struct.pack(">HHIHH", 0x0112, 3, 1, 6, 0) + struct.pack(">I", 0)
tiff = b"MM\x00\x2a" + struct.pack(">I", 8) + ifd
app1 = b"Exif\x00\x00" + tiff
jpeg = (out / "rgb.jpg").read_bytes()
assert jpeg[:2] == b"\xff\xd8"
(out / "exif-rotated.jpg").write_bytes(jpeg[:2] + b"\xff\xe1" + struct.pack(">H", len(app1) + 2) +
                                       app1 + jpeg[2:])
