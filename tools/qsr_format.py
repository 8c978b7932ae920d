"""Reader and writer of the .qsr model format, version 1 (docs/model-format.md).

A model is represented as a QsrModel: the header fields and an ordered dict of tensors
name -> QsrTensor(dtype, bits, array). F32/I32 tensors hold numpy arrays of that type; QW
tensors hold the integer weight codes (int8 array of the logical shape), packed on write and
unpacked on read.

read_qsr() validates every rule of the format document and raises QsrFormatError with a message
naming the offending field.
"""

import math
import struct
import zlib
from collections import OrderedDict

import numpy as np

MAGIC = b'QSRM'
FORMAT_VERSION = 1
HEADER_BYTES = 256
ENTRY_BYTES = 96
ALIGN = 64
NAME_BYTES = 48
ARCH_QUANTSR_C = 1
ARCH_QUANTSR_T = 2

DTYPE_F32 = 0
DTYPE_I32 = 1
DTYPE_QW = 2
DTYPE_NAMES = {DTYPE_F32: 'F32', DTYPE_I32: 'I32', DTYPE_QW: 'QW'}

MAX_DEPTH_LEVELS = 8
MAX_TENSORS = 4096
MAX_BLOCKS = 64
RANK_BYTES = 64
MAX_GROUPS = 8
T_FIELDS_BYTES = 48  # QuantSR-T fields at header offset 188 (reserved, zero, for QuantSR-C)


class QsrFormatError(ValueError):
    pass


class QsrTensor:
    def __init__(self, dtype, array, bits=32):
        self.dtype = dtype
        self.bits = bits
        if dtype == DTYPE_F32:
            self.array = np.ascontiguousarray(array, dtype=np.float32)
        elif dtype == DTYPE_I32:
            self.array = np.ascontiguousarray(array, dtype=np.int32)
        elif dtype == DTYPE_QW:
            self.array = np.ascontiguousarray(array, dtype=np.int8)
        else:
            raise QsrFormatError(f'unknown dtype {dtype}')

    @property
    def shape(self):
        return tuple(self.array.shape)


class QsrModel:
    def __init__(self, scale, channels, blocks, bits_w, bits_a, depth_levels, block_rank,
                 rgb_mean=(0.4488, 0.4371, 0.4040), img_range=255.0, arch=ARCH_QUANTSR_C,
                 in_channels=3, tensors=None, heads=0, window=0, mlp_hidden=0, group_depths=()):
        self.arch = arch
        # QuantSR-T only (0 / empty for QuantSR-C): attention heads, window edge, MLP hidden
        # width, Swin layers per group (their sum is `blocks`)
        self.heads = heads
        self.window = window
        self.mlp_hidden = mlp_hidden
        self.group_depths = list(group_depths)
        self.scale = scale
        self.in_channels = in_channels
        self.channels = channels
        self.blocks = blocks
        self.bits_w = bits_w
        self.bits_a = bits_a
        self.depth_levels = list(depth_levels)
        self.block_rank = list(block_rank)
        self.rgb_mean = tuple(float(v) for v in rgb_mean)
        self.img_range = float(img_range)
        self.tensors = tensors if tensors is not None else OrderedDict()

    @property
    def quantized(self):
        return self.bits_w != 32


# ---------------------------------------------------------------------------------------------
# QW packing

def container_bits(bits):
    if bits == 2:
        return 2
    if bits in (3, 4):
        return 4
    raise QsrFormatError(f'QW bits must be 2, 3 or 4, got {bits}')


def qw_bytes(count, bits):
    per_word = 32 // container_bits(bits)
    return 4 * ((count + per_word - 1) // per_word)


def pack_qw(codes, bits):
    """int codes (any shape, row-major) -> bytes of little-endian u32 words."""
    codes = np.asarray(codes).reshape(-1).astype(np.int64)
    lo, hi = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
    if codes.size and (codes.min() < lo or codes.max() > hi):
        raise QsrFormatError(f'QW code out of range [{lo}, {hi}] for {bits} bits')
    cont = container_bits(bits)
    per_word = 32 // cont
    nwords = (codes.size + per_word - 1) // per_word
    fields = np.zeros(nwords * per_word, dtype=np.uint64)
    fields[:codes.size] = (codes & ((1 << cont) - 1)).astype(np.uint64)
    fields = fields.reshape(nwords, per_word)
    shifts = (np.arange(per_word, dtype=np.uint64) * np.uint64(cont))
    words = np.bitwise_or.reduce(fields << shifts[None, :], axis=1).astype('<u4')
    return words.tobytes()


def unpack_qw(raw, count, bits):
    """bytes -> int8 codes (count of them); checks the unused high fields are zero."""
    cont = container_bits(bits)
    per_word = 32 // cont
    words = np.frombuffer(raw, dtype='<u4').astype(np.uint64)
    shifts = np.arange(per_word, dtype=np.uint64) * np.uint64(cont)
    fields = ((words[:, None] >> shifts[None, :]) & np.uint64((1 << cont) - 1)).reshape(-1)
    if np.any(fields[count:] != 0):
        raise QsrFormatError('QW tensor has non-zero unused fields in its last word')
    fields = fields[:count].astype(np.int64)
    signed = np.where(fields >= (1 << (cont - 1)), fields - (1 << cont), fields)
    lo, hi = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
    if signed.size and (signed.min() < lo or signed.max() > hi):
        # a 3-bit code must be a sign-extended 4-bit field
        raise QsrFormatError(f'QW code out of range [{lo}, {hi}] for {bits} bits')
    return signed.astype(np.int8)


# ---------------------------------------------------------------------------------------------
# Expected tensor set

def upsample_stages(scale):
    if scale == 2:
        return [2]
    if scale == 3:
        return [3]
    if scale == 4:
        return [2, 2]
    raise QsrFormatError(f'scale must be 2, 3 or 4, got {scale}')


def _quantized_layer(exp, model, prefix, cout, cin_shape):
    """The tensors of one quantized (or, for bits 32, FP) linear layer or convolution."""
    cin = cin_shape[0]
    exp[prefix + 'weight'] = (DTYPE_QW if model.quantized else DTYPE_F32, [(cout,) + cin_shape])
    exp[prefix + 'bias'] = (DTYPE_F32, [(cout,)])
    if model.quantized:
        exp[prefix + 'weight_step'] = (DTYPE_F32, [(1,), (cout,)])
        exp[prefix + 'act_step'] = (DTYPE_F32, [(1,)])
        exp[prefix + 'act_shift'] = (DTYPE_F32, [(cin,)])
        exp[prefix + 'act_signed'] = (DTYPE_I32, [(1,)])


def expected_tensors_t(model):
    """OrderedDict name -> (dtype, allowed shapes) of a QuantSR-T model."""
    e, hid, w = model.channels, model.mlp_hidden, model.window
    exp = OrderedDict()
    exp['conv_first.weight'] = (DTYPE_F32, [(e, 3, 3, 3)])
    exp['conv_first.bias'] = (DTYPE_F32, [(e,)])
    exp['patch_norm.weight'] = (DTYPE_F32, [(e,)])
    exp['patch_norm.bias'] = (DTYPE_F32, [(e,)])
    for i in range(model.blocks):
        p = f'layer.{i}.'
        for norm in ('norm1', 'norm2'):
            exp[p + norm + '.weight'] = (DTYPE_F32, [(e,)])
            exp[p + norm + '.bias'] = (DTYPE_F32, [(e,)])
        _quantized_layer(exp, model, p + 'qkv.', 3 * e, (e,))
        exp[p + 'attn.rel_bias'] = (DTYPE_F32, [((2 * w - 1) ** 2, model.heads)])
        if model.quantized:
            for t in ('q', 'k', 'v'):
                exp[p + f'attn.{t}.act_step'] = (DTYPE_F32, [(1,)])
                exp[p + f'attn.{t}.act_shift'] = (DTYPE_F32, [(e,)])
                exp[p + f'attn.{t}.act_signed'] = (DTYPE_I32, [(1,)])
            exp[p + 'attn.p.act_step'] = (DTYPE_F32, [(1,)])
        _quantized_layer(exp, model, p + 'proj.', e, (e,))
        exp[p + 'shortcut'] = (DTYPE_F32, [(1,)])
        _quantized_layer(exp, model, p + 'fc1.', hid, (e,))
        _quantized_layer(exp, model, p + 'fc2.', e, (hid,))
    for g in range(len(model.group_depths)):
        _quantized_layer(exp, model, f'group.{g}.conv.', e, (e, 3, 3))
    exp['norm.weight'] = (DTYPE_F32, [(e,)])
    exp['norm.bias'] = (DTYPE_F32, [(e,)])
    exp['conv_after_body.weight'] = (DTYPE_F32, [(e, e, 3, 3)])
    exp['conv_after_body.bias'] = (DTYPE_F32, [(e,)])
    s2 = model.scale * model.scale
    exp['upsample.0.weight'] = (DTYPE_F32, [(3 * s2, e, 3, 3)])
    exp['upsample.0.bias'] = (DTYPE_F32, [(3 * s2,)])
    return exp


def expected_tensors(model):
    """OrderedDict name -> (dtype, allowed shapes) of the model's architecture."""
    if model.arch == ARCH_QUANTSR_T:
        return expected_tensors_t(model)
    c = model.channels
    exp = OrderedDict()
    exp['conv_first.weight'] = (DTYPE_F32, [(c, 3, 3, 3)])
    exp['conv_first.bias'] = (DTYPE_F32, [(c,)])
    for i in range(model.blocks):
        for k in (1, 2):
            p = f'body.{i}.conv{k}.'
            exp[p + 'weight'] = (DTYPE_QW if model.quantized else DTYPE_F32, [(c, c, 3, 3)])
            exp[p + 'bias'] = (DTYPE_F32, [(c,)])
            if model.quantized:
                exp[p + 'weight_step'] = (DTYPE_F32, [(1,), (c,)])
                exp[p + 'act_step'] = (DTYPE_F32, [(1,)])
                exp[p + 'act_shift'] = (DTYPE_F32, [(c,)])
                exp[p + 'act_signed'] = (DTYPE_I32, [(1,)])
        exp[f'body.{i}.shortcut'] = (DTYPE_F32, [(1,)])
    exp['conv_after_body.weight'] = (DTYPE_F32, [(c, c, 3, 3)])
    exp['conv_after_body.bias'] = (DTYPE_F32, [(c,)])
    for k, r in enumerate(upsample_stages(model.scale)):
        exp[f'upsample.{k}.weight'] = (DTYPE_F32, [(r * r * c, c, 3, 3)])
        exp[f'upsample.{k}.bias'] = (DTYPE_F32, [(r * r * c,)])
    exp['conv_last.weight'] = (DTYPE_F32, [(3, c, 3, 3)])
    exp['conv_last.bias'] = (DTYPE_F32, [(3,)])
    return exp


def validate_model(model):
    """Checks header fields and the tensor set; raises QsrFormatError naming the field."""
    def fail(msg):
        raise QsrFormatError(msg)

    if model.arch not in (ARCH_QUANTSR_C, ARCH_QUANTSR_T):
        fail(f'arch: unknown value {model.arch}')
    if model.arch == ARCH_QUANTSR_T:
        validate_t_fields(model)
    elif model.heads or model.window or model.mlp_hidden or model.group_depths:
        fail('QuantSR-T fields (header bytes 188..235) must be 0 for QuantSR-C')
    if model.scale not in (2, 3, 4):
        fail(f'scale: must be 2, 3 or 4, got {model.scale}')
    if model.in_channels != 3:
        fail(f'in_channels: must be 3, got {model.in_channels}')
    if not 1 <= model.channels <= 256:
        fail(f'channels: must be 1..256, got {model.channels}')
    if not 1 <= model.blocks <= MAX_BLOCKS:
        fail(f'blocks: must be 1..{MAX_BLOCKS}, got {model.blocks}')
    if model.bits_w not in (2, 3, 4, 32):
        fail(f'bits_w: must be 2, 3, 4 or 32, got {model.bits_w}')
    if model.bits_a not in (2, 3, 4, 32):
        fail(f'bits_a: must be 2, 3, 4 or 32, got {model.bits_a}')
    if (model.bits_w == 32) != (model.bits_a == 32):
        fail(f'bits_a: must be 32 if and only if bits_w is 32 (bits_w {model.bits_w}, '
             f'bits_a {model.bits_a})')
    lv = model.depth_levels
    if not 1 <= len(lv) <= MAX_DEPTH_LEVELS:
        fail(f'depth_level_count: must be 1..{MAX_DEPTH_LEVELS}, got {len(lv)}')
    if lv[0] != model.blocks:
        fail(f'depth_levels[0]: must equal blocks ({model.blocks}), got {lv[0]}')
    for k in range(1, len(lv)):
        if not lv[k] < lv[k - 1]:
            fail(f'depth_levels[{k}]: must be < depth_levels[{k - 1}] ({lv[k - 1]}), got {lv[k]}')
    if lv[-1] < 1:
        fail(f'depth_levels[{len(lv) - 1}]: must be >= 1, got {lv[-1]}')
    rank = model.block_rank
    if len(rank) != model.blocks or sorted(rank) != list(range(model.blocks)):
        fail(f'block_rank: first {model.blocks} entries must be a permutation of '
             f'0..{model.blocks - 1}, got {rank}')
    mean = model.rgb_mean
    if len(mean) != 3 or not all(math.isfinite(v) for v in mean):
        fail(f'rgb_mean: must be 3 finite values, got {mean}')
    if not (math.isfinite(model.img_range) and model.img_range > 0):
        fail(f'img_range: must be finite and > 0, got {model.img_range}')
    if not 1 <= len(model.tensors) <= MAX_TENSORS:
        fail(f'tensor_count: must be 1..{MAX_TENSORS}, got {len(model.tensors)}')

    exp = expected_tensors(model)
    arch_name = 'QuantSR-T' if model.arch == ARCH_QUANTSR_T else 'QuantSR-C'
    for name, t in model.tensors.items():
        if name not in exp:
            fail(f'tensor "{name}": not a tensor of a {arch_name} model with these header fields')
        dtype, shapes = exp[name]
        if t.dtype != dtype:
            fail(f'tensor "{name}": dtype {DTYPE_NAMES.get(t.dtype, t.dtype)}, expected '
                 f'{DTYPE_NAMES[dtype]}')
        if t.shape not in shapes:
            fail(f'tensor "{name}": shape {list(t.shape)}, expected ' +
                 ' or '.join(str(list(s)) for s in shapes))
        if t.dtype == DTYPE_QW and t.bits != model.bits_w:
            fail(f'tensor "{name}": bits {t.bits}, must equal bits_w {model.bits_w}')
        if t.dtype != DTYPE_QW and t.bits != 32:
            fail(f'tensor "{name}": bits {t.bits}, must be 32 for {DTYPE_NAMES[t.dtype]}')
        if t.dtype == DTYPE_F32 and not np.all(np.isfinite(t.array)):
            fail(f'tensor "{name}": holds a non-finite value')
        if name.endswith('_step') and not np.all(t.array > 0):
            fail(f'tensor "{name}": step sizes must be > 0')
        if name.endswith('act_signed') and not np.all((t.array == 0) | (t.array == 1)):
            fail(f'tensor "{name}": must be 0 or 1, got {t.array.tolist()}')
        if t.dtype == DTYPE_QW:
            lo, hi = -(2 ** (t.bits - 1)), 2 ** (t.bits - 1) - 1
            if t.array.size and (t.array.min() < lo or t.array.max() > hi):
                fail(f'tensor "{name}": weight code out of range [{lo}, {hi}]')
    for name in exp:
        if name not in model.tensors:
            fail(f'tensor "{name}": missing')


def validate_t_fields(model):
    def fail(msg):
        raise QsrFormatError(msg)

    g = model.group_depths
    if not 1 <= len(g) <= MAX_GROUPS:
        fail(f'group_count: must be 1..{MAX_GROUPS}, got {len(g)}')
    if any(d < 1 for d in g) or sum(g) != model.blocks:
        fail(f'group_depths: each >= 1 and summing to blocks ({model.blocks}), got {g}')
    if not 1 <= model.heads <= 16 or model.channels % model.heads:
        fail(f'heads: must be 1..16 and divide channels ({model.channels}), got {model.heads}')
    if model.window not in (4, 8, 16):
        fail(f'window: must be 4, 8 or 16, got {model.window}')
    if not 1 <= model.mlp_hidden <= 1024:
        fail(f'mlp_hidden: must be 1..1024, got {model.mlp_hidden}')


def t_fields_bytes(model):
    if model.arch != ARCH_QUANTSR_T:
        return b'\0' * T_FIELDS_BYTES
    depths = model.group_depths + [0] * (MAX_GROUPS - len(model.group_depths))
    return struct.pack('<4I8I', model.heads, model.window, model.mlp_hidden,
                       len(model.group_depths), *depths)


# ---------------------------------------------------------------------------------------------
# Writing

def _align(n):
    return (n + ALIGN - 1) // ALIGN * ALIGN


def _tensor_payload(t):
    if t.dtype == DTYPE_QW:
        return pack_qw(t.array, t.bits)
    if t.dtype == DTYPE_F32:
        return t.array.astype('<f4').tobytes()
    return t.array.astype('<i4').tobytes()


def _entry(name, t, offset, nbytes):
    raw_name = name.encode('ascii')
    if len(raw_name) >= NAME_BYTES:
        raise QsrFormatError(f'tensor "{name}": name longer than {NAME_BYTES - 1} bytes')
    if not all(0x20 <= b < 0x7f for b in raw_name):
        raise QsrFormatError(f'tensor "{name}": name is not printable ASCII')
    shape = list(t.shape)
    if not 1 <= len(shape) <= 4:
        raise QsrFormatError(f'tensor "{name}": ndim must be 1..4, got {len(shape)}')
    shape4 = shape + [1] * (4 - len(shape))
    return (raw_name.ljust(NAME_BYTES, b'\0') +
            struct.pack('<IIII4IQQ', t.dtype, t.bits, len(shape), 0, *shape4, offset, nbytes))


def to_bytes(model):
    validate_model(model)
    n = len(model.tensors)
    table_offset = HEADER_BYTES
    data_offset = _align(HEADER_BYTES + ENTRY_BYTES * n)
    entries = []
    chunks = []
    pos = data_offset
    for name, t in model.tensors.items():
        if pos > data_offset:
            pad = _align(pos) - pos  # each tensor starts at a multiple of 64
            chunks.append(b'\0' * pad)
            pos += pad
        blob = _tensor_payload(t)
        entries.append(_entry(name, t, pos, len(blob)))
        chunks.append(blob)
        pos += len(blob)
    table = b''.join(entries)
    # the file ends right after the last tensor's bytes
    payload = table + b'\0' * (data_offset - HEADER_BYTES - len(table)) + b''.join(chunks)
    levels = model.depth_levels + [0] * (MAX_DEPTH_LEVELS - len(model.depth_levels))
    rank = bytes(model.block_rank) + b'\0' * (RANK_BYTES - len(model.block_rank))
    header = (MAGIC +
              struct.pack('<IIIIIIIIII', FORMAT_VERSION, HEADER_BYTES, model.arch, model.scale,
                          model.in_channels, model.channels, model.blocks, model.bits_w,
                          model.bits_a, len(model.depth_levels)) +
              struct.pack('<8I', *levels) +
              struct.pack('<IQQQI', n, table_offset, data_offset, len(payload),
                          zlib.crc32(payload) & 0xFFFFFFFF) +
              struct.pack('<3ff', *model.rgb_mean, model.img_range) +
              rank + t_fields_bytes(model) + b'\0' * (68 - T_FIELDS_BYTES))
    assert len(header) == HEADER_BYTES, len(header)
    return header + payload


def write_qsr(path, model):
    raw = to_bytes(model)
    with open(path, 'wb') as f:
        f.write(raw)
    return len(raw)


# ---------------------------------------------------------------------------------------------
# Reading

def from_bytes(raw, source='<bytes>'):
    def fail(msg):
        raise QsrFormatError(f'{source}: {msg}')

    size = len(raw)
    if size < HEADER_BYTES:
        fail(f'file is {size} bytes, shorter than the {HEADER_BYTES}-byte header')
    if raw[0:4] != MAGIC:
        fail(f'magic: expected "QSRM", got {raw[0:4]!r}')
    (version, header_bytes, arch, scale, in_ch, channels, blocks, bits_w, bits_a,
     level_count) = struct.unpack_from('<IIIIIIIIII', raw, 4)
    if version != FORMAT_VERSION:
        fail(f'format_version: {version} is not supported (this reader knows {FORMAT_VERSION})')
    if header_bytes != HEADER_BYTES:
        fail(f'header_bytes: must be {HEADER_BYTES}, got {header_bytes}')
    levels = list(struct.unpack_from('<8I', raw, 44))
    n, table_offset, data_offset, payload_bytes, crc = struct.unpack_from('<IQQQI', raw, 76)
    mean = struct.unpack_from('<3f', raw, 108)
    img_range = struct.unpack_from('<f', raw, 120)[0]
    rank_raw = raw[124:188]
    heads, window, mlp_hidden, group_count = struct.unpack_from('<4I', raw, 188)
    group_depths = list(struct.unpack_from('<8I', raw, 204))
    if arch == ARCH_QUANTSR_T:
        if not 1 <= group_count <= MAX_GROUPS:
            fail(f'group_count: must be 1..{MAX_GROUPS}, got {group_count}')
        if any(group_depths[group_count:]):
            fail('group_depths: entries past group_count must be 0')
        group_depths = group_depths[:group_count]
    elif any(raw[188:188 + T_FIELDS_BYTES]):
        fail('reserved header bytes 188..235 (QuantSR-T fields): must be 0 for arch 1')
    if any(raw[188 + T_FIELDS_BYTES:256]):
        fail(f'reserved header bytes {188 + T_FIELDS_BYTES}..255: must be 0')
    if not 1 <= level_count <= MAX_DEPTH_LEVELS:
        fail(f'depth_level_count: must be 1..{MAX_DEPTH_LEVELS}, got {level_count}')
    if any(levels[level_count:]):
        fail('depth_levels: entries past depth_level_count must be 0')
    if not 1 <= blocks <= MAX_BLOCKS:
        fail(f'blocks: must be 1..{MAX_BLOCKS}, got {blocks}')
    if any(rank_raw[blocks:]):
        fail(f'block_rank: entries past blocks ({blocks}) must be 0')
    if not 1 <= n <= MAX_TENSORS:
        fail(f'tensor_count: must be 1..{MAX_TENSORS}, got {n}')
    if table_offset != HEADER_BYTES:
        fail(f'tensor_table_offset: must be {HEADER_BYTES}, got {table_offset}')
    if data_offset != _align(HEADER_BYTES + ENTRY_BYTES * n):
        fail(f'data_offset: must be {_align(HEADER_BYTES + ENTRY_BYTES * n)} for {n} tensors, '
             f'got {data_offset}')
    if payload_bytes != size - HEADER_BYTES:
        fail(f'payload_bytes: header says {payload_bytes}, file has {size - HEADER_BYTES}')
    if data_offset > size:
        fail(f'data_offset {data_offset} is past the end of the file ({size} bytes)')
    actual_crc = zlib.crc32(raw[HEADER_BYTES:]) & 0xFFFFFFFF
    if actual_crc != crc:
        fail(f'payload_crc32: header says 0x{crc:08x}, payload has 0x{actual_crc:08x}')
    if any(raw[HEADER_BYTES + ENTRY_BYTES * n:data_offset]):
        fail('padding between the tensor table and data_offset must be 0')

    model = QsrModel(scale, channels, blocks, bits_w, bits_a, levels[:level_count],
                     list(rank_raw[:blocks]), mean, img_range, arch=arch, in_channels=in_ch)
    if arch == ARCH_QUANTSR_T:
        model.heads, model.window, model.mlp_hidden = heads, window, mlp_hidden
        model.group_depths = group_depths
    spans = []
    for k in range(n):
        base = HEADER_BYTES + ENTRY_BYTES * k
        raw_name = raw[base:base + NAME_BYTES]
        end = raw_name.find(b'\0')
        if end <= 0:
            fail(f'tensor table entry {k}: name is empty or not NUL-terminated')
        if any(raw_name[end:]):
            fail(f'tensor table entry {k}: name is not NUL-padded')
        if not all(0x20 <= b < 0x7f for b in raw_name[:end]):
            fail(f'tensor table entry {k}: name is not printable ASCII')
        name = raw_name[:end].decode('ascii')
        dtype, bits, ndim, res = struct.unpack_from('<IIII', raw, base + 48)
        shape4 = struct.unpack_from('<4I', raw, base + 64)
        offset, nbytes = struct.unpack_from('<QQ', raw, base + 80)
        where = f'tensor "{name}"'
        if name in model.tensors:
            fail(f'{where}: name appears twice')
        if dtype not in DTYPE_NAMES:
            fail(f'{where}: unknown dtype {dtype}')
        if res != 0:
            fail(f'{where}: reserved field must be 0')
        if not 1 <= ndim <= 4:
            fail(f'{where}: ndim must be 1..4, got {ndim}')
        if any(s < 1 for s in shape4) or any(s != 1 for s in shape4[ndim:]):
            fail(f'{where}: shape {list(shape4)} invalid (entries >= 1, 1 past ndim {ndim})')
        if dtype == DTYPE_QW:
            if bits not in (2, 3, 4):
                fail(f'{where}: QW bits must be 2, 3 or 4, got {bits}')
        elif bits != 32:
            fail(f'{where}: bits must be 32 for {DTYPE_NAMES[dtype]}, got {bits}')
        shape = tuple(shape4[:ndim])
        count = int(np.prod(shape))
        want = qw_bytes(count, bits) if dtype == DTYPE_QW else 4 * count
        if nbytes != want:
            fail(f'{where}: bytes {nbytes}, shape {list(shape)} needs {want}')
        if offset % ALIGN != 0:
            fail(f'{where}: offset {offset} is not a multiple of {ALIGN}')
        if offset < data_offset:
            fail(f'{where}: offset {offset} is before data_offset {data_offset}')
        if offset + nbytes > size:
            fail(f'{where}: data [{offset}, {offset + nbytes}) runs past the end of the file '
                 f'({size} bytes)')
        spans.append((offset, offset + nbytes, name))
        blob = raw[offset:offset + nbytes]
        if dtype == DTYPE_F32:
            arr = np.frombuffer(blob, dtype='<f4').astype(np.float32).reshape(shape)
        elif dtype == DTYPE_I32:
            arr = np.frombuffer(blob, dtype='<i4').astype(np.int32).reshape(shape)
        else:
            try:
                arr = unpack_qw(blob, count, bits).reshape(shape)
            except QsrFormatError as e:
                fail(f'{where}: {e}')
        model.tensors[name] = QsrTensor(dtype, arr, bits)
    spans.sort()
    for (s0, e0, n0), (s1, _, n1) in zip(spans, spans[1:]):
        if s1 < e0:
            fail(f'tensors "{n0}" and "{n1}" overlap')
    try:
        validate_model(model)
    except QsrFormatError as e:
        fail(str(e))
    return model


def read_qsr(path):
    with open(path, 'rb') as f:
        raw = f.read()
    return from_bytes(raw, source=path)
