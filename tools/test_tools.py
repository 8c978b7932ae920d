#!/usr/bin/python3
"""Unit tests of the Python tools (format round trip and validation, QW packing, resize,
exported model == fake-quant training model).

    /usr/bin/python3 tools/test_tools.py
"""

import os
import struct
import sys
import tempfile
import unittest
import zlib

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import data  # noqa: E402
import export  # noqa: E402
import qsr_format as qf  # noqa: E402
import reference  # noqa: E402
from quantsr_c import QuantSRC, active_set, depth_levels  # noqa: E402


def small_model(scale=4, bits=4, channels=8, blocks=4, seed=0):
    torch.manual_seed(seed)
    m = QuantSRC(scale, channels, blocks, bits, bits)
    m.train()
    m(torch.rand(2, 3, 12, 12))  # initialises the LSQ steps and signedness
    with torch.no_grad():
        for p in m.parameters():
            p.add_(torch.randn_like(p) * 0.01)
    m.eval()
    return m


def fix_crc(raw):
    raw = bytearray(raw)
    struct.pack_into('<I', raw, 104, zlib.crc32(bytes(raw[256:])) & 0xFFFFFFFF)
    return bytes(raw)


class QwPacking(unittest.TestCase):
    def test_known_words(self):
        self.assertEqual(qf.pack_qw([-1, 1], 4), bytes.fromhex('1f000000'))
        self.assertEqual(qf.pack_qw([-2, 1, -1], 2), bytes.fromhex('36000000'))
        # a 3-bit code is sign-extended into a 4-bit field
        self.assertEqual(qf.pack_qw([-4, 3], 3), bytes.fromhex('3c000000'))

    def test_round_trip_all_bits(self):
        rng = np.random.default_rng(0)
        for bits in (2, 3, 4):
            for count in (1, 7, 8, 15, 16, 17, 100):
                codes = rng.integers(-(2 ** (bits - 1)), 2 ** (bits - 1), count)
                raw = qf.pack_qw(codes, bits)
                self.assertEqual(len(raw), qf.qw_bytes(count, bits))
                np.testing.assert_array_equal(qf.unpack_qw(raw, count, bits), codes)

    def test_out_of_range_code_rejected(self):
        with self.assertRaises(qf.QsrFormatError):
            qf.pack_qw([8], 4)
        # field value 0b0100 = +4 is not a 3-bit code
        with self.assertRaises(qf.QsrFormatError):
            qf.unpack_qw(struct.pack('<I', 4), 1, 3)

    def test_unused_fields_must_be_zero(self):
        with self.assertRaises(qf.QsrFormatError):
            qf.unpack_qw(struct.pack('<I', 0x10), 1, 4)


class FormatRoundTrip(unittest.TestCase):
    def setUp(self):
        self.model = small_model()
        self.q = export.model_to_qsr(self.model, [2, 0, 3, 1])
        self.raw = qf.to_bytes(self.q)

    def test_header_fields(self):
        raw = self.raw
        self.assertEqual(raw[:4], b'QSRM')
        self.assertEqual(struct.unpack_from('<III', raw, 4), (1, 256, 1))
        self.assertEqual(struct.unpack_from('<I', raw, 40)[0], 3)
        self.assertEqual(list(struct.unpack_from('<8I', raw, 44)), [4, 3, 2, 0, 0, 0, 0, 0])
        n, table, data_off, payload, crc = struct.unpack_from('<IQQQI', raw, 76)
        self.assertEqual(table, 256)
        self.assertEqual(data_off % 64, 0)
        self.assertEqual(data_off, (256 + 96 * n + 63) // 64 * 64)
        self.assertEqual(payload, len(raw) - 256)
        self.assertEqual(crc, zlib.crc32(raw[256:]) & 0xFFFFFFFF)
        self.assertEqual(list(raw[124:128]), [2, 0, 3, 1])
        self.assertFalse(any(raw[188:256]))

    def test_round_trip(self):
        q2 = qf.from_bytes(self.raw)
        self.assertEqual(list(q2.tensors), list(self.q.tensors))
        for name, t in self.q.tensors.items():
            np.testing.assert_array_equal(t.array, q2.tensors[name].array)
        for k in range(len(q2.tensors)):
            off = struct.unpack_from('<Q', self.raw, 256 + 96 * k + 80)[0]
            self.assertEqual(off % 64, 0)

    def test_flipped_bit_detected(self):
        raw = bytearray(self.raw)
        raw[len(raw) // 2] ^= 0x10
        with self.assertRaisesRegex(qf.QsrFormatError, 'payload_crc32'):
            qf.from_bytes(bytes(raw))

    def test_bad_fields_named(self):
        cases = [
            (0, b'QSRX', 'magic'),
            (4, struct.pack('<I', 2), 'format_version'),
            (16, struct.pack('<I', 5), 'scale'),
            (36, struct.pack('<I', 32), 'bits_a'),
            (44, struct.pack('<I', 5), 'depth_levels'),
            (124, bytes([2, 2]), 'block_rank'),
            (200, b'\x01', 'reserved'),
        ]
        for off, patch, field in cases:
            raw = bytearray(self.raw)
            raw[off:off + len(patch)] = patch
            with self.assertRaisesRegex(qf.QsrFormatError, field):
                qf.from_bytes(bytes(raw))

    def test_bad_table_entries_named(self):
        entry = 256 + 96 * 1  # second tensor: conv_first.bias
        for off, patch, what in [
            (entry + 48, struct.pack('<I', 7), 'dtype'),
            (entry + 80, struct.pack('<Q', 1000000), 'past the end'),
            (entry + 80, struct.pack('<Q', 65), 'multiple of 64'),
            (entry + 88, struct.pack('<Q', 4), 'bytes'),
            (entry, b'conv_first.bias\0'.ljust(48, b'\0').replace(b'bias', b'bogus'), 'bogus'),
        ]:
            raw = bytearray(self.raw)
            raw[off:off + len(patch)] = patch
            with self.assertRaisesRegex(qf.QsrFormatError, what):
                qf.from_bytes(fix_crc(raw))

    def test_truncated_file(self):
        with self.assertRaises(qf.QsrFormatError):
            qf.from_bytes(self.raw[:-4])
        with self.assertRaises(qf.QsrFormatError):
            qf.from_bytes(self.raw[:100])

    def test_non_finite_rejected(self):
        self.q.tensors['body.0.shortcut'].array[0] = np.nan
        with self.assertRaisesRegex(qf.QsrFormatError, 'non-finite'):
            qf.to_bytes(self.q)


class ReferenceMatchesTraining(unittest.TestCase):
    def test_integer_reference_equals_fake_quant(self):
        lr = np.random.default_rng(3).integers(0, 256, (11, 13, 3)).astype(np.uint8)
        for scale, bits in ((4, 4), (2, 2), (3, 3), (4, 32)):
            m = small_model(scale, bits)
            rank = [1, 3, 0, 2]
            ref = reference.ReferenceModel(qf.from_bytes(qf.to_bytes(export.model_to_qsr(m, rank))))
            for d in depth_levels(4):
                with torch.no_grad():
                    x = torch.from_numpy(lr.transpose(2, 0, 1).copy()).float()[None] / 255.0
                    out = m(x, active_set(rank, d))[0].clamp(0, 1)
                fake = torch.floor(out * 255 + 0.5).byte().permute(1, 2, 0).numpy()
                sr = ref.run(lr, d)
                self.assertEqual(sr.shape, (11 * scale, 13 * scale, 3))
                diff = np.abs(sr.astype(int) - fake.astype(int))
                self.assertLessEqual(diff.max(), 1, f'x{scale} {bits} bits depth {d}')


class Resize(unittest.TestCase):
    def test_constant_image_stays_constant(self):
        img = np.full((20, 24, 3), 77.0)
        np.testing.assert_allclose(data.imresize(img, 0.25), 77.0, atol=1e-9)
        np.testing.assert_allclose(data.imresize(img, 3.0), 77.0, atol=1e-9)

    def test_shapes_and_weights(self):
        m = data.resize_matrix(10, 3, 1 / 3)
        np.testing.assert_allclose(m.sum(axis=1), 1.0)
        self.assertEqual(data.imresize(np.zeros((13, 10)), 0.5).shape, (7, 5))

    def test_linear_ramp_interior(self):
        # the cubic kernel reproduces linear functions exactly away from the borders
        ramp = np.tile(np.arange(40, dtype=np.float64), (8, 1))
        up = data.imresize(ramp, 2.0)
        x = np.arange(80)
        np.testing.assert_allclose(up[4, 8:72], ((x + 0.5) / 2 - 0.5)[8:72], atol=1e-9)

    def test_depth_levels(self):
        self.assertEqual(depth_levels(8), [8, 5, 3])
        self.assertEqual(depth_levels(32), [32, 17, 9])
        self.assertEqual(depth_levels(2), [2, 1])
        self.assertEqual(depth_levels(1), [1])


class Cli(unittest.TestCase):
    def test_reference_cli_and_file_io(self):
        m = small_model(2, 4)
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, 'm.qsr')
            qf.write_qsr(path, export.model_to_qsr(m, [0, 1, 2, 3]))
            inp = os.path.join(tmp, 'in.png')
            out = os.path.join(tmp, 'out.png')
            data.save_rgb(inp, np.full((6, 5, 3), 128, np.uint8))
            self.assertEqual(reference.main([path, inp, out, '--depth', '3']), 0)
            self.assertEqual(data.load_rgb(out).shape, (12, 10, 3))
            with open(path, 'r+b') as f:
                f.seek(300)
                f.write(b'\xff')
            self.assertEqual(reference.main([path, inp, out]), 1)


if __name__ == '__main__':
    torch.set_num_threads(1)
    unittest.main()
