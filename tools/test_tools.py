#!/usr/bin/python3
"""Unit tests of the Python tools (format round trip and validation, QW packing, resize,
exported model == fake-quant training model, results CSV, model evaluation driver, trade-off
plot).

    /usr/bin/python3 tools/test_tools.py
"""

import contextlib
import copy
import csv
import io
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
import eval_models  # noqa: E402
import bench_vs_torch  # noqa: E402
import bench_compare  # noqa: E402
import export  # noqa: E402
import plot_tradeoff  # noqa: E402
import qsr_format as qf  # noqa: E402
import reference  # noqa: E402
import results_csv  # noqa: E402
import train  # noqa: E402
import archs  # noqa: E402
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


def small_t_model(bits=4, scale=4, seed=0):
    """A QuantSR-T with quantizers initialised and weights perturbed so every path matters."""
    torch.manual_seed(seed)
    m = archs.build({'arch': 't', 'scale': scale, 'embed_dim': 16, 'depths': [2, 2], 'heads': 2,
                     'window': 4, 'bits_w': bits, 'bits_a': bits})
    with torch.no_grad():
        for p in m.parameters():
            p.add_(torch.randn_like(p) * 0.05)
    m.train()
    with torch.no_grad():
        m(torch.rand(2, 3, 12, 12))
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


class QuantSRT(unittest.TestCase):
    def test_integer_reference_equals_fake_quant(self):
        # sizes that are not multiples of the window (reflect padding, cropping), shifted
        # windows with the mask, every depth level, 2/4 bits and float
        lr = np.random.default_rng(4).integers(0, 256, (11, 18, 3)).astype(np.uint8)
        for bits, scale in ((4, 4), (2, 2), (32, 3)):
            m = small_t_model(bits, scale)
            rank = [2, 0, 3, 1]
            q = qf.from_bytes(qf.to_bytes(export.model_to_qsr(m, rank)))
            self.assertEqual((q.arch, q.heads, q.window, q.group_depths), (2, 2, 4, [2, 2]))
            ref = reference.make_reference(q)
            outputs = []
            for d in q.depth_levels:
                with torch.no_grad():
                    x = torch.from_numpy(lr.transpose(2, 0, 1).copy()).float()[None] / 255.0
                    out = m(x, active_set(rank, d) if d < 4 else None)[0].clamp(0, 1)
                fake = torch.floor(out * 255 + 0.5).byte().permute(1, 2, 0).numpy()
                sr = ref.run(lr, d)
                self.assertEqual(sr.shape, (11 * scale, 18 * scale, 3))
                diff = np.abs(sr.astype(int) - fake.astype(int))
                self.assertLessEqual(diff.max(), 1, f'{bits} bits depth {d}')
                outputs.append(sr)
            # the depth levels really differ (skipped layers change the output)
            self.assertTrue(np.any(outputs[0] != outputs[-1]))

    def test_format_rules(self):
        q = export.model_to_qsr(small_t_model(), [0, 1, 2, 3])
        raw = qf.to_bytes(q)
        self.assertEqual(struct.unpack_from('<4I', raw, 188), (2, 4, 32, 2))
        q.group_depths = [3, 2]
        with self.assertRaisesRegex(qf.QsrFormatError, 'group_depths'):
            qf.to_bytes(q)
        q.group_depths = [2, 2]
        del q.tensors['layer.1.attn.p.act_step']
        with self.assertRaisesRegex(qf.QsrFormatError, 'layer.1.attn.p.act_step'):
            qf.to_bytes(q)
        # a QuantSR-C file must keep the QuantSR-T fields zero
        c = bytearray(qf.to_bytes(export.model_to_qsr(small_model(), [0, 1, 2, 3])))
        c[192] = 8
        with self.assertRaisesRegex(qf.QsrFormatError, 'QuantSR-T fields'):
            qf.from_bytes(fix_crc(bytes(c)))

    def test_train_smoke(self):
        self.assertEqual(train.main(['--smoke', '--arch', 't', '--bits', '4']), 0)


class BenchVsTorchNetwork(unittest.TestCase):
    def test_same_network_as_the_reference(self):
        # bench_vs_torch times the model's network in fp32: on an fp32 model its output must
        # be the reference's, at every depth (skipped blocks keep their shortcut).
        lr = np.random.default_rng(5).integers(0, 256, (9, 10, 3)).astype(np.uint8)
        q = qf.from_bytes(qf.to_bytes(export.model_to_qsr(small_model(2, 32), [2, 0, 3, 1])))
        for i in range(q.blocks):  # shortcuts far from 1, so a dropped one shows
            q.tensors[f'body.{i}.shortcut'].array[0] = 0.5 + 0.2 * i
        ref = reference.ReferenceModel(q)
        mean = torch.tensor(q.rgb_mean).view(1, 3, 1, 1)
        x = (torch.from_numpy(lr.transpose(2, 0, 1).copy()).float()[None] / 255.0 - mean) * 255.0
        for d in depth_levels(4):
            with torch.no_grad():
                y = bench_vs_torch.TorchNetwork(q, d)(x) / 255.0 + mean
            sr = torch.floor(y.clamp(0, 1) * 255 + 0.5).byte()[0].permute(1, 2, 0).numpy()
            diff = np.abs(sr.astype(int) - ref.run(lr, d).astype(int))
            self.assertLessEqual(diff.max(), 1, f'depth {d}')

    def test_failed_quantsr_is_an_error(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, 'm.qsr')
            with open(path, 'wb') as f:
                f.write(qf.to_bytes(export.model_to_qsr(small_model(2, 2, 8, 2), [1, 0])))
            err = io.StringIO()
            with contextlib.redirect_stderr(err):
                rc = bench_vs_torch.main([path, '--size', '8x8', '--runs', '1',
                                          '--quantsr', '/nonexistent'])
        self.assertEqual(rc, 1)
        self.assertIn('quantsr bench failed', err.getvalue())

    def test_rounds_give_medians_of_their_own_ratios(self):
        # Each round's ratio pairs runs made at about the same machine speed: a slow round
        # (all three times doubled) keeps its ratio, where the ratio of the medians would not.
        rounds = [{'quantsr_gpu_ms': 100.0, 'torch_nchw_ms': 200.0, 'torch_channels_last_ms': 150.0},
                  {'quantsr_gpu_ms': 300.0, 'torch_nchw_ms': 600.0, 'torch_channels_last_ms': 450.0},
                  {'quantsr_gpu_ms': 110.0, 'torch_nchw_ms': 330.0, 'torch_channels_last_ms': 110.0}]
        med = bench_vs_torch.summarize(rounds)
        self.assertEqual(med['quantsr_gpu_ms'], 110.0)
        self.assertEqual(med['torch_nchw_ms'], 330.0)
        self.assertEqual(med['torch_channels_last_ms'], 150.0)
        self.assertEqual(med['speedup_vs_nchw'], 2.0)  # 2, 2, 3 (medians' ratio: 3)
        self.assertEqual(med['speedup_vs_channels_last'], 1.5)  # 1.5, 1.5, 1


class BenchCompare(unittest.TestCase):
    def test_rounds_give_medians_of_their_own_ratios(self):
        def side(gpu, q, f):
            return {'depth': 4, 'kernel': 'k', 'gpu_ms': gpu, 'quantized_ms': q,
                    'quantized_fraction_of_limit': f}
        # the second round ran on a machine twice as slow: its ratios stand, its times do not
        rounds = [{'a': side(100.0, 80.0, 0.5), 'b': side(60.0, 40.0, 0.4)},
                  {'a': side(200.0, 160.0, 0.6), 'b': side(120.0, 80.0, 0.5)},
                  {'a': side(90.0, 70.0, 0.7), 'b': side(75.0, 50.0, 0.3)}]
        med = bench_compare.summarize(rounds)
        self.assertEqual(med['a'], {'gpu_ms': 100.0, 'quantized_ms': 80.0,
                                    'quantized_fraction_of_limit': 0.6})
        self.assertEqual(med['b']['gpu_ms'], 75.0)
        self.assertAlmostEqual(med['ratio_gpu_ms'], 100.0 / 60.0)  # 1.67, 1.67, 1.2
        self.assertAlmostEqual(med['ratio_quantized_ms'], 2.0)  # 2, 2, 1.4

    def test_bad_inputs_are_errors(self):
        with tempfile.TemporaryDirectory() as d:
            good = os.path.join(d, 'm.qsr')
            with open(good, 'wb') as f:
                f.write(qf.to_bytes(export.model_to_qsr(small_model(2, 2, 8, 2), [1, 0])))
            bad = os.path.join(d, 'bad.qsr')
            with open(bad, 'wb') as f:
                f.write(b'not a model')
            for argv, message in (([good, bad], 'error:'),
                                  ([good, good, '--quantsr', '/nonexistent'],
                                   'quantsr bench failed')):
                err = io.StringIO()
                with contextlib.redirect_stderr(err):
                    rc = bench_compare.main(argv + ['--runs', '1'])
                self.assertEqual(rc, 1, argv)
                self.assertIn(message, err.getvalue())


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


class ExportLevels(unittest.TestCase):
    def test_depth_levels_option(self):
        self.assertEqual(export.parse_levels('8,5', 8), [8, 5])
        self.assertEqual(export.parse_levels('8', 8), [8])
        for bad in ('5,3', '8,8', '8,9', '8,x', '8,0', ''):
            with self.assertRaises(SystemExit):
                export.parse_levels(bad, 8)
        m = small_model(2, 4)
        q = export.model_to_qsr(m, [0, 1, 2, 3], export.parse_levels('4,2', 4))
        self.assertEqual(list(q.depth_levels), [4, 2])


class WeightAverage(unittest.TestCase):
    def test_ema_update_averages_parameters_and_copies_buffers(self):
        avg, new = small_model(seed=0), small_model(seed=1)
        with torch.no_grad():
            new.body[0].conv1.ActOurs.signed.fill_(1 - avg.body[0].conv1.ActOurs.signed.item())
        before = copy.deepcopy(avg.state_dict())
        train.ema_update(avg, new, 0.9, step=1000)
        w = avg.state_dict()
        expect = 0.9 * before['conv_first.weight'] + 0.1 * new.conv_first.weight
        self.assertTrue(torch.allclose(w['conv_first.weight'], expect, atol=1e-7))
        self.assertFalse(torch.allclose(w['conv_first.weight'], new.conv_first.weight))
        self.assertEqual(w['body.0.conv1.ActOurs.signed'].item(),
                         new.body[0].conv1.ActOurs.signed.item())
        # the ramp: at step 0 the decay is 1/10, so a fresh average follows the weights
        avg = small_model(seed=0)
        train.ema_update(avg, new, 0.999, step=0)
        expect = 0.1 * before['conv_first.weight'] + 0.9 * new.conv_first.weight
        self.assertTrue(torch.allclose(avg.conv_first.weight, expect, atol=1e-7))

    def test_export_uses_the_average_when_present(self):
        raw, avg = small_model(seed=0), small_model(seed=1)
        ckpt = {'model': raw.state_dict(), 'block_rank': [0, 1, 2, 3],
                'config': {'scale': 4, 'channels': 8, 'blocks': 4, 'bits_w': 4, 'bits_a': 4}}
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, 'c.pt')
            torch.save(ckpt, path)
            m, _, _ = export.load_checkpoint_model(path)
            self.assertTrue(torch.equal(m.conv_first.weight, raw.conv_first.weight))
            ckpt['model_ema'] = avg.state_dict()
            torch.save(ckpt, path)
            m, _, _ = export.load_checkpoint_model(path)
            self.assertTrue(torch.equal(m.conv_first.weight, avg.conv_first.weight))


def results_row(model, scale, bits, depth, macs, set5_psnr, blocks=8):
    return {'model': model, 'scale': scale, 'bits': bits, 'channels': 32, 'blocks': blocks,
            'depth': depth, 'macs_per_lr_pixel': macs, 'set5_psnr': set5_psnr, 'set5_ssim': 0.85,
            'set14_psnr': set5_psnr - 3, 'set14_ssim': 0.75}


def bicubic_row(scale, set5_psnr):
    return {'model': 'bicubic', 'scale': scale, 'depth': 0, 'macs_per_lr_pixel': 0,
            'set5_psnr': set5_psnr, 'set5_ssim': 0.8, 'set14_psnr': set5_psnr - 3,
            'set14_ssim': 0.7}


SYNTHETIC_RESULTS = [
    results_row('a_x4.qsr', 4, '4', 8, 355680, 30.4568),
    results_row('a_x4.qsr', 4, '4', 5, 300384, 30.35),
    results_row('a_x4.qsr', 4, '4', 3, 263520, 30.19),
    results_row('b_x4.qsr', 4, 'w2a4', 8, 355680, 29.9),
    results_row('b_x4.qsr', 4, 'w2a4', 3, 263520, 29.5),
    results_row('c_x2.qsr', 2, '4', 8, 170000, 36.1),
    results_row('c_x2.qsr', 2, '4', 4, 90000, 35.7),
    bicubic_row(4, 28.431), bicubic_row(2, 33.681)]


def write_synthetic_results(folder):
    """SYNTHETIC_RESULTS written to folder/results.csv: (path, its lines)."""
    path = os.path.join(folder, 'results.csv')
    results_csv.write_results(path, SYNTHETIC_RESULTS)
    with open(path) as f:
        return path, f.read().splitlines()


class ResultsCsv(unittest.TestCase):
    def test_round_trip_sorted_and_rounded(self):
        with tempfile.TemporaryDirectory() as tmp:
            path, lines = write_synthetic_results(tmp)
            self.assertEqual(lines[0], ','.join(results_csv.COLUMNS))
            self.assertEqual(lines[1], 'bicubic,2,,,,0,0,33.681,0.8000,30.681,0.7000')
            self.assertEqual(lines[4], 'bicubic,4,,,,0,0,28.431,0.8000,25.431,0.7000')
            self.assertEqual(lines[5], 'a_x4.qsr,4,4,32,8,8,355680,30.457,0.8500,27.457,0.7500')
            rows = results_csv.read_results(path)
            self.assertEqual(len(rows), len(SYNTHETIC_RESULTS))
            self.assertEqual(rows[0]['channels'], None)
            self.assertEqual(rows[4]['set5_psnr'], 30.457)
            self.assertEqual(rows[4]['macs_per_lr_pixel'], 355680)

    def test_bad_cells_named(self):
        with tempfile.TemporaryDirectory() as tmp:
            path, lines = write_synthetic_results(tmp)
            cases = [(2, lines[2].replace('36.100', 'abc'), "line 3: set5_psnr is 'abc'"),
                     (2, lines[2].replace(',170000,', ',-5,'), 'line 3: macs_per_lr_pixel'),
                     (2, lines[2].replace('c_x2.qsr,2,', 'c_x2.qsr,,'), 'line 3: scale is empty'),
                     (0, lines[0].replace(',set14_ssim', ''), 'lacks column(s) set14_ssim')]
            for index, line, message in cases:
                broken = list(lines)
                broken[index] = line
                with open(path, 'w') as f:
                    f.write('\n'.join(broken) + '\n')
                with self.assertRaises(ValueError) as ctx:
                    results_csv.read_results(path)
                self.assertIn(message, str(ctx.exception))
                self.assertIn(path, str(ctx.exception))

    def test_markdown_tables(self):
        text = results_csv.markdown_tables(SYNTHETIC_RESULTS)
        a = text[text.index('### a_x4.qsr'):text.index('### b_x4.qsr')].splitlines()
        self.assertEqual(a[2], '| depth | Set5 Y-PSNR | Set5 SSIM | Set14 Y-PSNR | Set14 SSIM |')
        self.assertEqual(a[4], '| 8 (full) | 30.457 | 0.8500 | 27.457 | 0.7500 |')
        self.assertEqual(a[6], '| 3 | 30.190 | 0.8500 | 27.190 | 0.7500 |')
        self.assertEqual(a[7], '| bicubic | 28.431 | 0.8000 | 25.431 | 0.7000 |')
        self.assertIn('| bicubic | 33.681 |', text[text.index('### c_x2.qsr'):])


# A stand-in for the quantsr binary: `info --json` and `eval --json` with made-up numbers that
# depend on the model name (scale), depth and folder, or exit 1 for a model named *fail*.
FAKE_CLI = r"""#!/usr/bin/python3
import json, os, sys
args = sys.argv[1:]
model = args[args.index('-m') + 1]
if 'fail' in model:
    sys.exit('quantsr: cannot load ' + model)
scale = 2 if 'x2' in model else 4
if args[0] == 'info':
    print(json.dumps({'scale': scale, 'channels': 16, 'blocks': 4, 'bits_w': 4, 'bits_a': 2,
                      'depth_levels': [4, 3], 'macs_per_pixel': [4000, 3000]}))
else:
    depth = int(args[args.index('--depth') + 1])
    hr = args[args.index('--hr') + 1]
    extra = 1 if hr.endswith('Set14') else 0
    print(json.dumps({'depth': depth, 'images': 2, 'failed': 0,
                      'psnr_y': 30 + depth / 10 + extra + scale, 'ssim_y': 0.5 + depth / 100,
                      'bicubic_psnr_y': 25 + extra + scale, 'bicubic_ssim_y': 0.4}))
"""


class EvalModels(unittest.TestCase):
    def setUp(self):
        self.tmpdir = tempfile.TemporaryDirectory()
        self.tmp = self.tmpdir.name
        self.cli = os.path.join(self.tmp, 'quantsr')
        with open(self.cli, 'w') as f:
            f.write(FAKE_CLI)
        os.chmod(self.cli, 0o755)
        self.models = os.path.join(self.tmp, 'models')
        for d in ('models', 'eval/Set5', 'eval/Set14'):
            os.makedirs(os.path.join(self.tmp, d))
        for name in ('m_x2.qsr', 'm_x4.qsr'):
            open(os.path.join(self.models, name), 'wb').close()
        self.csv = os.path.join(self.models, 'results.csv')

    def tearDown(self):
        self.tmpdir.cleanup()

    def run_eval(self, *names):
        argv = ['--models', self.models, '--data', os.path.join(self.tmp, 'eval'),
                '--cli', self.cli] + list(names)
        with open(os.devnull, 'w') as null:
            saved = sys.stdout, sys.stderr
            sys.stdout = sys.stderr = null
            try:
                return eval_models.main(argv)
            finally:
                sys.stdout, sys.stderr = saved

    def test_every_model_and_depth(self):
        self.assertEqual(self.run_eval(), 0)
        with open(self.csv) as f:
            rows = list(csv.DictReader(f))
        self.assertEqual([(r['model'], r['depth']) for r in rows],
                         [('bicubic', '0'), ('m_x2.qsr', '4'), ('m_x2.qsr', '3'),
                          ('bicubic', '0'), ('m_x4.qsr', '4'), ('m_x4.qsr', '3')])
        x4_d3 = rows[5]
        self.assertEqual((x4_d3['scale'], x4_d3['bits'], x4_d3['channels'], x4_d3['blocks']),
                         ('4', 'w4a2', '16', '4'))
        self.assertEqual(x4_d3['macs_per_lr_pixel'], '3000')
        self.assertEqual((x4_d3['set5_psnr'], x4_d3['set14_psnr']), ('34.300', '35.300'))
        self.assertEqual(rows[3]['set14_psnr'], '30.000')  # bicubic x4, from the Set14 run

    def test_only_named_models_measured_old_rows_kept(self):
        self.assertEqual(self.run_eval(), 0)
        results_csv.write_results(self.csv, [dict(r, set5_ssim=0.25)
                                             for r in results_csv.read_results(self.csv)])
        os.remove(os.path.join(self.models, 'm_x2.qsr'))
        open(os.path.join(self.models, 'z_x4.qsr'), 'wb').close()
        self.assertEqual(self.run_eval('z_x4.qsr'), 0)
        rows = results_csv.read_results(self.csv)
        self.assertEqual(sorted({r['model'] for r in rows}), ['bicubic', 'm_x4.qsr', 'z_x4.qsr'])
        old = [r for r in rows if r['model'] == 'm_x4.qsr']
        self.assertEqual([r['set5_ssim'] for r in old], [0.25, 0.25])  # kept, not re-measured
        self.assertEqual([r['scale'] for r in rows if r['model'] == 'bicubic'], [4])

    def test_failures_leave_the_csv_alone(self):
        open(os.path.join(self.models, 'n_fail.qsr'), 'wb').close()
        self.assertEqual(self.run_eval(), 1)
        self.assertFalse(os.path.exists(self.csv))
        self.assertEqual(self.run_eval('missing.qsr'), 1)
        os.remove(self.cli)
        self.assertEqual(self.run_eval('m_x4.qsr'), 1)
        self.assertFalse(os.path.exists(self.csv))


class PlotTradeoff(unittest.TestCase):
    @staticmethod
    def colour_counts(path):
        from PIL import Image
        with Image.open(path) as img:
            return img.size, {c: n for n, c in img.convert('RGB').getcolors(1 << 20)}

    def test_png_has_the_size_and_every_model_colour(self):
        with tempfile.TemporaryDirectory() as tmp:
            path, png = write_synthetic_results(tmp)[0], os.path.join(tmp, 'plot.png')
            with open(os.devnull, 'w') as null:
                saved, sys.stdout = sys.stdout, null
                try:
                    rc = plot_tradeoff.main(['--csv', path, '--out', png, '--size', '900x600'])
                finally:
                    sys.stdout = saved
            self.assertEqual(rc, 0)
            size, counts = self.colour_counts(png)
        self.assertEqual(size, (900, 600))
        for i in range(3):  # three models: each marker's inside keeps the model's exact colour
            colour = plot_tradeoff.model_style(i)[0]
            self.assertGreater(counts.get(colour, 0), 40, 'colour %r of model %d' % (colour, i))
        self.assertEqual(counts.get(plot_tradeoff.model_style(3)[0], 0), 0)  # no fourth model
        self.assertGreater(counts.get(plot_tradeoff.BICUBIC_COLOR, 0), 100)  # dashed lines
        self.assertGreater(counts.get((255, 255, 255), 0), 900 * 600 // 2)

    def test_without_truetype_fonts_and_without_data(self):
        img = plot_tradeoff.draw_tradeoff(SYNTHETIC_RESULTS, 'Set14', (640, 400), font_paths=())
        self.assertEqual(img.size, (640, 400))
        bicubic_only = [r for r in SYNTHETIC_RESULTS if r['model'] == 'bicubic']
        with self.assertRaises(ValueError):
            plot_tradeoff.draw_tradeoff(bicubic_only)

    def test_nice_ticks(self):
        self.assertEqual(plot_tradeoff.nice_ticks(0, 384, 5), ([0, 100, 200, 300, 400], 100))
        ticks, step = plot_tradeoff.nice_ticks(28.2, 30.6, 6)
        self.assertEqual(step, 0.5)
        self.assertEqual([plot_tradeoff.tick_label(t, step) for t in ticks],
                         ['28.0', '28.5', '29.0', '29.5', '30.0', '30.5', '31.0'])
        self.assertEqual(plot_tradeoff.tick_label(7.5, 2.5), '7.5')


if __name__ == '__main__':
    torch.set_num_threads(1)
    unittest.main()
