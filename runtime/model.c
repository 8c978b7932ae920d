/* model.c - loads and validates .qsr model files (docs/model-format.md).
 *
 * The loader keeps a 64-byte aligned private copy of the file and points every tensor of the
 * loaded model into it; since each tensor starts at a multiple of 64 bytes, float tensors are
 * aligned. Every header field, table entry, size, offset and value is checked before use, so a
 * hostile file yields an error message, never an out-of-bounds access. */
#include "internal.h"
#include "arch.h"
#include "model_format.h"
#include "platform.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t align_up_64(uint64_t v) {
    return (v + (QSR__ALIGN - 1)) & ~(uint64_t)(QSR__ALIGN - 1);
}

/* Tensors are used in place, so the host must share the file's byte order. */
static int host_is_little_endian(void) {
    const uint32_t one = 1;
    uint8_t first;
    memcpy(&first, &one, 1);
    return first == 1;
}

/* ---------------------------------------------------------------------------------------------
 * Aligned buffers
 */
static void *aligned_buffer(size_t size) {
    size_t rounded = (size + (QSR__ALIGN - 1)) & ~(size_t)(QSR__ALIGN - 1);
    if (rounded < size || rounded == 0) return NULL;
    void *p = qsr__aligned_alloc(QSR__ALIGN, rounded);
    /* Zero the rounding tail so the buffer never holds uninitialised bytes. */
    if (p && rounded > size) memset((uint8_t *)p + size, 0, rounded - size);
    return p;
}

static void aligned_buffer_free(void *p) {
    qsr__aligned_free(p);
}

/* ---------------------------------------------------------------------------------------------
 * Small helpers shared with the rest of the runtime
 */
void qsr__act_range(uint32_t bits, int is_signed, int32_t *qn, int32_t *qp) {
    if (bits < 1 || bits > 31) bits = 31;
    if (is_signed) {
        *qn = -(int32_t)(1u << (bits - 1));
        *qp = (int32_t)((1u << (bits - 1)) - 1);
    } else {
        *qn = 0;
        *qp = (int32_t)((1u << bits) - 1);
    }
}

/* Container bits of a QW code: 2 for 2-bit codes, 4 for 3- and 4-bit codes. */
static uint32_t qw_container_bits(uint32_t bits) {
    return bits <= 2 ? 2u : 4u;
}

int32_t qsr__qw_get(const uint32_t *words, uint32_t bits, size_t i) {
    uint32_t container = qw_container_bits(bits);
    size_t per_word = 32u / container;
    uint32_t field =
        (words[i / per_word] >> ((i % per_word) * container)) & ((1u << container) - 1);
    /* Two's complement sign extension from `container` bits. */
    uint32_t sign = 1u << (container - 1);
    return (int32_t)(field ^ sign) - (int32_t)sign;
}

int qsr__model_block_active(const qsr_model *model, uint32_t depth, uint32_t block) {
    return model && qsr__arch_block_active(&model->info, depth, block);
}

/* ---------------------------------------------------------------------------------------------
 * Header
 */
static qsr_status check_header_magic_and_version(const uint8_t *data, size_t size) {
    if (size < 4 || memcmp(data + QSR__HDR_MAGIC, "QSRM", 4) != 0)
        return qsr__fail(QSR_ERROR_MODEL_CORRUPT,
                         "not a .qsr model file (the first 4 bytes are not \"QSRM\")");
    if (size < 8)
        return qsr__fail(QSR_ERROR_MODEL_CORRUPT,
                         "file is truncated: %zu bytes, smaller than the %u-byte header", size,
                         QSR__HEADER_BYTES);
    uint32_t version = qsr__le_u32(data + QSR__HDR_VERSION);
    if (version != QSR__FORMAT_VERSION)
        return qsr__fail(QSR_ERROR_UNSUPPORTED,
                         "format_version is %u; this build reads .qsr version %u only", version,
                         QSR__FORMAT_VERSION);
    if (size < QSR__HEADER_BYTES)
        return qsr__fail(QSR_ERROR_MODEL_CORRUPT,
                         "file is truncated: %zu bytes, smaller than the %u-byte header", size,
                         QSR__HEADER_BYTES);
    uint32_t header_bytes = qsr__le_u32(data + QSR__HDR_HEADER_BYTES);
    if (header_bytes != QSR__HEADER_BYTES)
        return qsr__fail(QSR_ERROR_MODEL_CORRUPT, "header field header_bytes is %u, must be %u",
                         header_bytes, QSR__HEADER_BYTES);
    return QSR_OK;
}

static qsr_status check_arch(uint32_t arch) {
    const qsr__arch *a = NULL;
    return qsr__arch_get(arch, &a);
}

static const char *arch_name(uint32_t arch) {
    const qsr__arch *a = qsr__arch_find(arch);
    return a ? a->name : "unknown";
}

/* A QuantSR-C file keeps the QuantSR-T fields zero (they were reserved bytes before arch 2);
 * the message names the field a non-zero byte belongs to. */
static qsr_status check_t_fields_zero(const qsr_model_info *info) {
    const struct {
        const char *name;
        uint32_t value;
    } fields[] = {{"heads", info->heads},
                  {"window", info->window},
                  {"mlp_hidden", info->mlp_hidden},
                  {"group_count", info->group_count}};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        if (fields[i].value != 0)
            return qsr__fail(QSR_ERROR_MODEL_CORRUPT,
                             "header field %s is %u, but the QuantSR-T fields (bytes 188..235, "
                             "reserved before arch 2) must be 0 in a QuantSR-C (arch 1) file",
                             fields[i].name, fields[i].value);
    for (uint32_t g = 0; g < QSR_MAX_GROUPS; g++)
        if (info->group_depths[g] != 0)
            return qsr__fail(QSR_ERROR_MODEL_CORRUPT,
                             "header field group_depths[%u] is %u, but the QuantSR-T fields "
                             "(bytes 188..235, reserved before arch 2) must be 0 in a QuantSR-C "
                             "(arch 1) file",
                             g, info->group_depths[g]);
    return QSR_OK;
}

static qsr_status check_groups(const qsr_model_info *info) {
    if (info->group_count < 1 || info->group_count > QSR_MAX_GROUPS)
        return qsr__fail(QSR_ERROR_MODEL_CORRUPT, "header field group_count is %u, must be 1 to %u",
                         info->group_count, QSR_MAX_GROUPS);
    uint32_t sum = 0;
    for (uint32_t g = 0; g < info->group_count; g++) {
        if (info->group_depths[g] < 1)
            return qsr__fail(QSR_ERROR_MODEL_CORRUPT,
                             "header field group_depths[%u] is 0, must be >= 1 (group_count = %u)",
                             g, info->group_count);
        /* Each entry is at most blocks <= 64, so the sum cannot overflow. */
        if (info->group_depths[g] > info->blocks)
            return qsr__fail(QSR_ERROR_MODEL_CORRUPT,
                             "header field group_depths[%u] is %u, more than blocks (%u)", g,
                             info->group_depths[g], info->blocks);
        sum += info->group_depths[g];
    }
    for (uint32_t g = info->group_count; g < QSR_MAX_GROUPS; g++)
        if (info->group_depths[g] != 0)
            return qsr__fail(QSR_ERROR_MODEL_CORRUPT,
                             "header field group_depths[%u] is %u, but unused entries (past "
                             "group_count = %u) must be 0",
                             g, info->group_depths[g], info->group_count);
    if (sum != info->blocks)
        return qsr__fail(QSR_ERROR_MODEL_CORRUPT,
                         "header field group_depths sums to %u, must equal blocks (%u)", sum,
                         info->blocks);
    return QSR_OK;
}

/* The QuantSR-T fields, as tools/qsr_format.py validates them. */
static qsr_status check_t_fields(const qsr_model_info *info) {
    if (info->heads < 1 || info->heads > 16 || info->channels % info->heads != 0)
        return qsr__fail(QSR_ERROR_MODEL_CORRUPT,
                         "header field heads is %u, must be 1 to 16 and divide channels (%u)",
                         info->heads, info->channels);
    if (info->window != 4 && info->window != 8 && info->window != 16)
        return qsr__fail(QSR_ERROR_MODEL_CORRUPT, "header field window is %u, must be 4, 8 or 16",
                         info->window);
    if (info->mlp_hidden < 1 || info->mlp_hidden > 1024)
        return qsr__fail(QSR_ERROR_MODEL_CORRUPT,
                         "header field mlp_hidden is %u, must be 1 to 1024", info->mlp_hidden);
    return check_groups(info);
}

static qsr_status check_shape_fields(const qsr_model_info *info) {
    if (info->scale < 2 || info->scale > 4)
        return qsr__fail(QSR_ERROR_MODEL_CORRUPT, "header field scale is %u, must be 2, 3 or 4",
                         info->scale);
    if (info->in_channels != 3)
        return qsr__fail(QSR_ERROR_MODEL_CORRUPT, "header field in_channels is %u, must be 3",
                         info->in_channels);
    if (info->channels < 1 || info->channels > QSR__MAX_CHANNELS)
        return qsr__fail(QSR_ERROR_MODEL_CORRUPT, "header field channels is %u, must be 1 to %u",
                         info->channels, QSR__MAX_CHANNELS);
    if (info->blocks < 1 || info->blocks > QSR_MAX_BLOCKS)
        return qsr__fail(QSR_ERROR_MODEL_CORRUPT, "header field blocks is %u, must be 1 to %u",
                         info->blocks, QSR_MAX_BLOCKS);
    return QSR_OK;
}

static int valid_bits(uint32_t bits) {
    return bits == 2 || bits == 3 || bits == 4 || bits == 32;
}

static qsr_status check_bits_fields(const qsr_model_info *info) {
    if (!valid_bits(info->bits_w))
        return qsr__fail(QSR_ERROR_MODEL_CORRUPT,
                         "header field bits_w is %u, must be 2, 3, 4 or 32", info->bits_w);
    if (!valid_bits(info->bits_a))
        return qsr__fail(QSR_ERROR_MODEL_CORRUPT,
                         "header field bits_a is %u, must be 2, 3, 4 or 32", info->bits_a);
    if ((info->bits_w == 32) != (info->bits_a == 32))
        return qsr__fail(QSR_ERROR_MODEL_CORRUPT,
                         "header fields bits_w = %u and bits_a = %u: either both are 32 "
                         "(unquantized) or neither is",
                         info->bits_w, info->bits_a);
    return QSR_OK;
}

static qsr_status check_depth_levels(const qsr_model_info *info) {
    uint32_t count = info->depth_level_count;
    if (count < 1 || count > QSR_MAX_DEPTH_LEVELS)
        return qsr__fail(QSR_ERROR_MODEL_CORRUPT,
                         "header field depth_level_count is %u, must be 1 to %u", count,
                         QSR_MAX_DEPTH_LEVELS);
    if (info->depth_levels[0] != info->blocks)
        return qsr__fail(QSR_ERROR_MODEL_CORRUPT,
                         "header field depth_levels[0] is %u, must equal blocks (%u)",
                         info->depth_levels[0], info->blocks);
    for (uint32_t i = 1; i < count; i++) {
        if (info->depth_levels[i] >= info->depth_levels[i - 1])
            return qsr__fail(QSR_ERROR_MODEL_CORRUPT,
                             "header field depth_levels is not strictly decreasing: entry %u is "
                             "%u after %u",
                             i, info->depth_levels[i], info->depth_levels[i - 1]);
    }
    if (info->depth_levels[count - 1] < 1)
        return qsr__fail(QSR_ERROR_MODEL_CORRUPT,
                         "header field depth_levels: the last level (entry %u) is 0, must be >= 1",
                         count - 1);
    for (uint32_t i = count; i < QSR_MAX_DEPTH_LEVELS; i++)
        if (info->depth_levels[i] != 0)
            return qsr__fail(QSR_ERROR_MODEL_CORRUPT,
                             "header field depth_levels[%u] is %u, but unused entries (past "
                             "depth_level_count = %u) must be 0",
                             i, info->depth_levels[i], count);
    return QSR_OK;
}

static qsr_status check_block_rank(const qsr_model_info *info) {
    uint8_t seen[QSR_MAX_BLOCKS] = {0};
    for (uint32_t i = 0; i < info->blocks; i++) {
        uint32_t b = info->block_rank[i];
        if (b >= info->blocks)
            return qsr__fail(QSR_ERROR_MODEL_CORRUPT,
                             "header field block_rank[%u] is %u, must be a block index below %u", i,
                             b, info->blocks);
        if (seen[b])
            return qsr__fail(QSR_ERROR_MODEL_CORRUPT,
                             "header field block_rank is not a permutation: block %u appears "
                             "twice (again at entry %u)",
                             b, i);
        seen[b] = 1;
    }
    for (uint32_t i = info->blocks; i < QSR_MAX_BLOCKS; i++)
        if (info->block_rank[i] != 0)
            return qsr__fail(QSR_ERROR_MODEL_CORRUPT,
                             "header field block_rank[%u] is %u, but entries past blocks (%u) "
                             "must be 0",
                             i, info->block_rank[i], info->blocks);
    return QSR_OK;
}

static qsr_status check_normalization(const qsr_model_info *info) {
    for (int c = 0; c < 3; c++)
        if (!isfinite(info->rgb_mean[c]))
            return qsr__fail(QSR_ERROR_MODEL_CORRUPT, "header field rgb_mean[%d] is not finite", c);
    if (!isfinite(info->img_range) || !(info->img_range > 0.0f))
        return qsr__fail(QSR_ERROR_MODEL_CORRUPT,
                         "header field img_range is %g, must be finite and > 0",
                         (double)info->img_range);
    return QSR_OK;
}

/* The layout fields: where the table and the data are, and how big the payload is. */
typedef struct qsr__layout {
    uint64_t table_offset;
    uint64_t data_offset;
    uint64_t payload_bytes;
    uint32_t payload_crc32;
} qsr__layout;

static qsr_status check_layout(const qsr_model_info *info, const qsr__layout *layout, size_t size) {
    if (info->tensor_count < 1 || info->tensor_count > QSR__MAX_TENSORS)
        return qsr__fail(QSR_ERROR_MODEL_CORRUPT,
                         "header field tensor_count is %u, must be 1 to %u", info->tensor_count,
                         QSR__MAX_TENSORS);
    if (layout->table_offset != QSR__HEADER_BYTES)
        return qsr__fail(QSR_ERROR_MODEL_CORRUPT,
                         "header field tensor_table_offset is %llu, must be %u",
                         (unsigned long long)layout->table_offset, QSR__HEADER_BYTES);
    uint64_t table_end = QSR__HEADER_BYTES + (uint64_t)QSR__ENTRY_BYTES * info->tensor_count;
    uint64_t expected_data = align_up_64(table_end);
    if (layout->data_offset != expected_data)
        return qsr__fail(QSR_ERROR_MODEL_CORRUPT,
                         "header field data_offset is %llu, must be %llu for %u tensors",
                         (unsigned long long)layout->data_offset, (unsigned long long)expected_data,
                         info->tensor_count);
    uint64_t actual_payload = (uint64_t)size - QSR__HEADER_BYTES;
    if (layout->payload_bytes != actual_payload) {
        if (layout->payload_bytes > actual_payload)
            return qsr__fail(QSR_ERROR_MODEL_CORRUPT,
                             "file is truncated: header field payload_bytes says %llu bytes "
                             "follow the header, but only %llu do",
                             (unsigned long long)layout->payload_bytes,
                             (unsigned long long)actual_payload);
        return qsr__fail(QSR_ERROR_MODEL_CORRUPT,
                         "header field payload_bytes is %llu, but %llu bytes follow the header "
                         "(trailing data)",
                         (unsigned long long)layout->payload_bytes,
                         (unsigned long long)actual_payload);
    }
    if (layout->data_offset > size)
        return qsr__fail(QSR_ERROR_MODEL_CORRUPT,
                         "file is truncated: %zu bytes, but the tensor table of %u entries "
                         "needs %llu",
                         size, info->tensor_count, (unsigned long long)layout->data_offset);
    return QSR_OK;
}

static qsr_status check_reserved_zero(const uint8_t *p, size_t count, const char *what) {
    for (size_t i = 0; i < count; i++)
        if (p[i] != 0)
            return qsr__fail(QSR_ERROR_MODEL_CORRUPT, "%s byte %zu is 0x%02x, must be 0", what, i,
                             p[i]);
    return QSR_OK;
}

static void read_header_info(const uint8_t *data, qsr_model_info *info, qsr__layout *layout) {
    memset(info, 0, sizeof *info);
    info->arch = qsr__le_u32(data + QSR__HDR_ARCH);
    info->scale = qsr__le_u32(data + QSR__HDR_SCALE);
    info->in_channels = qsr__le_u32(data + QSR__HDR_IN_CHANNELS);
    info->channels = qsr__le_u32(data + QSR__HDR_CHANNELS);
    info->blocks = qsr__le_u32(data + QSR__HDR_BLOCKS);
    info->bits_w = qsr__le_u32(data + QSR__HDR_BITS_W);
    info->bits_a = qsr__le_u32(data + QSR__HDR_BITS_A);
    info->depth_level_count = qsr__le_u32(data + QSR__HDR_DEPTH_LEVEL_COUNT);
    for (uint32_t i = 0; i < QSR_MAX_DEPTH_LEVELS; i++)
        info->depth_levels[i] = qsr__le_u32(data + QSR__HDR_DEPTH_LEVELS + 4 * i);
    info->tensor_count = qsr__le_u32(data + QSR__HDR_TENSOR_COUNT);
    for (int c = 0; c < 3; c++)
        info->rgb_mean[c] = qsr__le_f32(data + QSR__HDR_RGB_MEAN + 4 * c);
    info->img_range = qsr__le_f32(data + QSR__HDR_IMG_RANGE);
    memcpy(info->block_rank, data + QSR__HDR_BLOCK_RANK, QSR_MAX_BLOCKS);
    layout->table_offset = qsr__le_u64(data + QSR__HDR_TABLE_OFFSET);
    layout->data_offset = qsr__le_u64(data + QSR__HDR_DATA_OFFSET);
    layout->payload_bytes = qsr__le_u64(data + QSR__HDR_PAYLOAD_BYTES);
    layout->payload_crc32 = qsr__le_u32(data + QSR__HDR_PAYLOAD_CRC);
    info->heads = qsr__le_u32(data + QSR__HDR_HEADS);
    info->window = qsr__le_u32(data + QSR__HDR_WINDOW);
    info->mlp_hidden = qsr__le_u32(data + QSR__HDR_MLP_HIDDEN);
    info->group_count = qsr__le_u32(data + QSR__HDR_GROUP_COUNT);
    for (uint32_t g = 0; g < QSR_MAX_GROUPS; g++)
        info->group_depths[g] = qsr__le_u32(data + QSR__HDR_GROUP_DEPTHS + 4 * g);
}

/* Reads and checks the whole header and the payload's size and CRC. */
static qsr_status parse_header(const uint8_t *data, size_t size, qsr_model_info *info,
                               qsr__layout *layout) {
    qsr_status st = check_header_magic_and_version(data, size);
    if (st != QSR_OK) return st;
    read_header_info(data, info, layout);
    info->file_bytes = size;
    if ((st = check_arch(info->arch)) != QSR_OK) return st;
    if ((st = check_shape_fields(info)) != QSR_OK) return st;
    if ((st = check_bits_fields(info)) != QSR_OK) return st;
    if ((st = check_depth_levels(info)) != QSR_OK) return st;
    if ((st = check_block_rank(info)) != QSR_OK) return st;
    if ((st = check_normalization(info)) != QSR_OK) return st;
    /* The architecture's own fields (check_arch found its entry). */
    if ((st = qsr__arch_find(info->arch)->schema->check_header(info)) != QSR_OK) return st;
    if ((st = check_reserved_zero(data + QSR__HDR_RESERVED, QSR__HEADER_BYTES - QSR__HDR_RESERVED,
                                  "header field reserved")) != QSR_OK)
        return st;
    if ((st = check_layout(info, layout, size)) != QSR_OK) return st;
    uint32_t crc = qsr__crc32(data + QSR__HEADER_BYTES, size - QSR__HEADER_BYTES);
    if (crc != layout->payload_crc32)
        return qsr__fail(QSR_ERROR_MODEL_CORRUPT,
                         "payload CRC-32 mismatch: header field payload_crc32 is 0x%08x, the "
                         "payload's is 0x%08x (the file is damaged)",
                         layout->payload_crc32, crc);
    size_t table_end = QSR__HEADER_BYTES + (size_t)QSR__ENTRY_BYTES * info->tensor_count;
    return check_reserved_zero(data + table_end, (size_t)layout->data_offset - table_end,
                               "padding after the tensor table,");
}

/* ---------------------------------------------------------------------------------------------
 * Tensor table
 */
typedef struct qsr__entry {
    char name[QSR__NAME_BYTES];
    uint32_t dtype, bits, ndim;
    uint32_t shape[4];
    uint64_t offset, bytes;
    size_t count; /* elements */
} qsr__entry;

static qsr_status parse_entry_name(const uint8_t *p, uint32_t index, char *name) {
    size_t len = 0;
    while (len < QSR__NAME_BYTES && p[len] != 0)
        len++;
    if (len == QSR__NAME_BYTES)
        return qsr__fail(QSR_ERROR_MODEL_CORRUPT,
                         "tensor table entry %u: name is not NUL-terminated within %u bytes", index,
                         QSR__NAME_BYTES);
    if (len == 0)
        return qsr__fail(QSR_ERROR_MODEL_CORRUPT, "tensor table entry %u: name is empty", index);
    for (size_t i = 0; i < len; i++)
        if (p[i] < 0x20 || p[i] > 0x7e)
            return qsr__fail(QSR_ERROR_MODEL_CORRUPT,
                             "tensor table entry %u: name byte %zu is 0x%02x, not printable "
                             "ASCII",
                             index, i, p[i]);
    for (size_t i = len; i < QSR__NAME_BYTES; i++)
        if (p[i] != 0)
            return qsr__fail(QSR_ERROR_MODEL_CORRUPT,
                             "tensor table entry %u ('%.*s'): name is not NUL-padded (byte %zu "
                             "is 0x%02x)",
                             index, (int)len, (const char *)p, i, p[i]);
    memcpy(name, p, len + 1);
    return QSR_OK;
}

/* Bytes a tensor of `count` elements takes in the file; 0 on overflow. */
static uint64_t tensor_file_bytes(uint32_t dtype, uint32_t bits, size_t count) {
    if (dtype == QSR__DTYPE_QW) {
        uint64_t per_word = 32u / qw_container_bits(bits);
        return 4 * (((uint64_t)count + per_word - 1) / per_word);
    }
    size_t bytes;
    return qsr__mul_size(count, 4, &bytes) ? (uint64_t)bytes : 0;
}

static qsr_status check_entry_type(const qsr__entry *e, uint32_t index, uint32_t bits_w) {
    if (e->dtype > QSR__DTYPE_QW)
        return qsr__fail(QSR_ERROR_MODEL_CORRUPT,
                         "tensor '%s' (entry %u): dtype is %u, must be 0 (F32), 1 (I32) or 2 "
                         "(QW)",
                         e->name, index, e->dtype);
    if (e->dtype != QSR__DTYPE_QW && e->bits != 32)
        return qsr__fail(QSR_ERROR_MODEL_CORRUPT,
                         "tensor '%s' (entry %u): bits is %u, must be 32 for dtype %s", e->name,
                         index, e->bits, e->dtype == QSR__DTYPE_F32 ? "F32" : "I32");
    if (e->dtype == QSR__DTYPE_QW) {
        if (bits_w == 32)
            return qsr__fail(QSR_ERROR_MODEL_CORRUPT,
                             "tensor '%s' (entry %u): QW tensor in an unquantized model "
                             "(bits_w = 32)",
                             e->name, index);
        if (e->bits != bits_w)
            return qsr__fail(QSR_ERROR_MODEL_CORRUPT,
                             "tensor '%s' (entry %u): QW bits is %u, must equal bits_w (%u)",
                             e->name, index, e->bits, bits_w);
    }
    return QSR_OK;
}

static qsr_status check_entry_shape(qsr__entry *e, uint32_t index) {
    if (e->ndim < 1 || e->ndim > 4)
        return qsr__fail(QSR_ERROR_MODEL_CORRUPT,
                         "tensor '%s' (entry %u): ndim is %u, must be 1 to 4", e->name, index,
                         e->ndim);
    size_t count = 1;
    for (uint32_t d = 0; d < 4; d++) {
        if (d < e->ndim && e->shape[d] < 1)
            return qsr__fail(QSR_ERROR_MODEL_CORRUPT,
                             "tensor '%s' (entry %u): shape[%u] is 0, must be >= 1", e->name, index,
                             d);
        if (d >= e->ndim && e->shape[d] != 1)
            return qsr__fail(QSR_ERROR_MODEL_CORRUPT,
                             "tensor '%s' (entry %u): shape[%u] is %u, but entries past ndim "
                             "(%u) must be 1",
                             e->name, index, d, e->shape[d], e->ndim);
        if (!qsr__mul_size(count, e->shape[d], &count))
            return qsr__fail(QSR_ERROR_MODEL_CORRUPT,
                             "tensor '%s' (entry %u): element count overflows", e->name, index);
    }
    e->count = count;
    return QSR_OK;
}

static qsr_status check_entry_extent(const qsr__entry *e, uint32_t index, uint64_t data_offset,
                                     size_t size) {
    uint64_t expected = tensor_file_bytes(e->dtype, e->bits, e->count);
    if (expected == 0 || e->bytes != expected)
        return qsr__fail(QSR_ERROR_MODEL_CORRUPT,
                         "tensor '%s' (entry %u): bytes is %llu, but its dtype and shape take "
                         "%llu",
                         e->name, index, (unsigned long long)e->bytes,
                         (unsigned long long)expected);
    if (e->offset % QSR__ALIGN != 0)
        return qsr__fail(QSR_ERROR_MODEL_CORRUPT,
                         "tensor '%s' (entry %u): offset %llu is not a multiple of %u", e->name,
                         index, (unsigned long long)e->offset, QSR__ALIGN);
    if (e->offset < data_offset)
        return qsr__fail(QSR_ERROR_MODEL_CORRUPT,
                         "tensor '%s' (entry %u): offset %llu lies before data_offset (%llu)",
                         e->name, index, (unsigned long long)e->offset,
                         (unsigned long long)data_offset);
    if (e->offset > size || e->bytes > size - e->offset)
        return qsr__fail(QSR_ERROR_MODEL_CORRUPT,
                         "tensor '%s' (entry %u): offset %llu + bytes %llu runs past the end "
                         "of the %zu-byte file",
                         e->name, index, (unsigned long long)e->offset,
                         (unsigned long long)e->bytes, size);
    return QSR_OK;
}

static qsr_status parse_entry(const uint8_t *data, size_t size, const qsr_model_info *info,
                              uint64_t data_offset, uint32_t index, qsr__entry *e) {
    const uint8_t *p = data + QSR__HEADER_BYTES + (size_t)QSR__ENTRY_BYTES * index;
    qsr_status st = parse_entry_name(p + QSR__ENT_NAME, index, e->name);
    if (st != QSR_OK) return st;
    e->dtype = qsr__le_u32(p + QSR__ENT_DTYPE);
    e->bits = qsr__le_u32(p + QSR__ENT_BITS);
    e->ndim = qsr__le_u32(p + QSR__ENT_NDIM);
    for (int d = 0; d < 4; d++)
        e->shape[d] = qsr__le_u32(p + QSR__ENT_SHAPE + 4 * d);
    e->offset = qsr__le_u64(p + QSR__ENT_OFFSET);
    e->bytes = qsr__le_u64(p + QSR__ENT_BYTES);
    uint32_t reserved = qsr__le_u32(p + QSR__ENT_RESERVED);
    if (reserved != 0)
        return qsr__fail(QSR_ERROR_MODEL_CORRUPT,
                         "tensor '%s' (entry %u): reserved field is %u, must be 0", e->name, index,
                         reserved);
    if ((st = check_entry_type(e, index, info->bits_w)) != QSR_OK) return st;
    if ((st = check_entry_shape(e, index)) != QSR_OK) return st;
    return check_entry_extent(e, index, data_offset, size);
}

typedef struct qsr__extent {
    uint64_t offset;
    uint32_t index;
} qsr__extent;

static int compare_extents(const void *a, const void *b) {
    uint64_t oa = ((const qsr__extent *)a)->offset, ob = ((const qsr__extent *)b)->offset;
    return oa < ob ? -1 : oa > ob ? 1 : 0;
}

/* Tensors may not share bytes: sort by offset and compare neighbours. */
static qsr_status check_no_overlap(const qsr__entry *entries, uint32_t count) {
    qsr__extent *order = (qsr__extent *)malloc(sizeof *order * count);
    if (!order)
        return qsr__fail(QSR_ERROR_OUT_OF_HOST_MEMORY,
                         "cannot allocate the tensor order (%u entries)", count);
    for (uint32_t i = 0; i < count; i++) {
        order[i].offset = entries[i].offset;
        order[i].index = i;
    }
    qsort(order, count, sizeof *order, compare_extents);
    qsr_status st = QSR_OK;
    for (uint32_t k = 1; k < count && st == QSR_OK; k++) {
        const qsr__entry *prev = &entries[order[k - 1].index], *cur = &entries[order[k].index];
        if (prev->offset + prev->bytes > cur->offset)
            st = qsr__fail(QSR_ERROR_MODEL_CORRUPT,
                           "tensors '%s' [%llu, +%llu) and '%s' [%llu, +%llu) overlap", prev->name,
                           (unsigned long long)prev->offset, (unsigned long long)prev->bytes,
                           cur->name, (unsigned long long)cur->offset,
                           (unsigned long long)cur->bytes);
    }
    free(order);
    return st;
}

/* ---------------------------------------------------------------------------------------------
 * The tensors a QuantSR-C model must have, and where each one goes in struct qsr_model
 */
/* Names are at most 47 characters by construction ("layer.63.attn.q.act_signed" is the
 * longest); vsnprintf keeps the compiler from guessing at truncation of %s arguments. */
static void format_name(char name[QSR__NAME_BYTES], const char *fmt, ...) QSR__PRINTF(2, 3);
static void format_name(char name[QSR__NAME_BYTES], const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(name, QSR__NAME_BYTES, fmt, ap);
    va_end(ap);
}

typedef enum qsr__role {
    ROLE_WEIGHT,
    ROLE_BIAS,
    ROLE_WEIGHT_STEP,
    ROLE_ACT_STEP,
    ROLE_ACT_SHIFT,
    ROLE_ACT_SIGNED,
    ROLE_SHORTCUT,
    /* QuantSR-T tensors that belong to no layer: */
    ROLE_VECTOR, /* an F32 tensor used in place: target is a `const float **` */
    ROLE_SCALAR, /* an F32 [1]: target is a `float *` */
    ROLE_STEP,   /* an F32 [1] step, > 0: target is a `float *` */
    ROLE_FLAG    /* an I32 [1] 0/1 flag: target is an `int *` */
} qsr__role;

typedef struct qsr__spec {
    char name[QSR__NAME_BYTES];
    uint32_t dtype, ndim;
    uint32_t shape[4];
    qsr__role role;
    qsr__conv *conv; /* the convolution the tensor belongs to (NULL for a shortcut) */
    uint32_t block;  /* shortcut: its block */
    void *target;    /* ROLE_VECTOR .. ROLE_FLAG: where the value goes */
    int64_t entry;   /* index of the matching table entry, -1 until matched */
} qsr__spec;

struct qsr__spec_list {
    qsr__spec *items;
    uint32_t count, capacity;
};

/* Shapes: ndim 1 [d0]; 2 [d0, d1]; 4 [d0, d1, 3, 3]. */
static qsr__spec *add_spec(qsr__spec_list *list, const char *name, uint32_t dtype, uint32_t ndim,
                           uint32_t d0, uint32_t d1, qsr__role role, qsr__conv *conv,
                           uint32_t block) {
    /* The list is sized for the largest model up front, so this cannot overflow. */
    qsr__spec *s = &list->items[list->count++];
    memset(s, 0, sizeof *s);
    snprintf(s->name, sizeof s->name, "%s", name);
    s->dtype = dtype;
    s->ndim = ndim;
    s->shape[0] = d0;
    s->shape[1] = ndim >= 2 ? d1 : 1;
    s->shape[2] = ndim >= 4 ? 3 : 1;
    s->shape[3] = ndim >= 4 ? 3 : 1;
    s->role = role;
    s->conv = conv;
    s->block = block;
    s->entry = -1;
    return s;
}

/* Adds a tensor `prefix``suffix` that goes to `target` (ROLE_VECTOR .. ROLE_FLAG). */
static void add_target_spec(qsr__spec_list *list, const char *prefix, const char *suffix,
                            uint32_t dtype, uint32_t ndim, uint32_t d0, uint32_t d1, qsr__role role,
                            void *target) {
    char name[QSR__NAME_BYTES];
    format_name(name, "%s%s", prefix, suffix);
    add_spec(list, name, dtype, ndim, d0, d1, role, NULL, 0)->target = target;
}

/* Adds the tensors of one layer `prefix` (a 3x3 convolution with weight_ndim 4, a linear layer
 * with weight_ndim 2) and records its geometry in `conv`. */
static void add_layer_specs(qsr__spec_list *list, const char *prefix, qsr__conv *conv,
                            uint32_t weight_ndim, uint32_t cin, uint32_t cout, uint32_t bits_w,
                            uint32_t bits_a) {
    char name[QSR__NAME_BYTES];
    conv->cin = cin;
    conv->cout = cout;
    conv->bits_w = bits_w;
    conv->bits_a = bits_a;
    int quantized = bits_w != 32;
    format_name(name, "%s.weight", prefix);
    add_spec(list, name, quantized ? QSR__DTYPE_QW : QSR__DTYPE_F32, weight_ndim, cout, cin,
             ROLE_WEIGHT, conv, 0);
    format_name(name, "%s.bias", prefix);
    add_spec(list, name, QSR__DTYPE_F32, 1, cout, 0, ROLE_BIAS, conv, 0);
    if (!quantized) return;
    format_name(name, "%s.weight_step", prefix);
    add_spec(list, name, QSR__DTYPE_F32, 1, cout, 0, ROLE_WEIGHT_STEP, conv, 0);
    format_name(name, "%s.act_step", prefix);
    add_spec(list, name, QSR__DTYPE_F32, 1, 1, 0, ROLE_ACT_STEP, conv, 0);
    format_name(name, "%s.act_shift", prefix);
    add_spec(list, name, QSR__DTYPE_F32, 1, cin, 0, ROLE_ACT_SHIFT, conv, 0);
    format_name(name, "%s.act_signed", prefix);
    add_spec(list, name, QSR__DTYPE_I32, 1, 1, 0, ROLE_ACT_SIGNED, conv, 0);
}

static void add_conv_specs(qsr__spec_list *list, const char *prefix, qsr__conv *conv, uint32_t cin,
                           uint32_t cout, uint32_t bits_w, uint32_t bits_a) {
    add_layer_specs(list, prefix, conv, 4, cin, cout, bits_w, bits_a);
}

static qsr_status alloc_specs(qsr__spec_list *list, uint32_t capacity) {
    list->capacity = capacity;
    list->count = 0;
    list->items = (qsr__spec *)calloc(list->capacity, sizeof *list->items);
    if (!list->items)
        return qsr__fail(QSR_ERROR_OUT_OF_HOST_MEMORY, "cannot allocate the tensor list");
    return QSR_OK;
}

static qsr_status build_specs_c(qsr_model *model, qsr__spec_list *list) {
    const qsr_model_info *info = &model->info;
    uint32_t c = info->channels, r = model->upsample_factor;
    /* conv_first, conv_after_body, conv_last: 6; upsample: up to 4; per block: 2 convs of up
     * to 6 tensors plus the shortcut. */
    qsr_status st = alloc_specs(list, 10 + info->blocks * 13);
    if (st != QSR_OK) return st;
    add_conv_specs(list, "conv_first", &model->conv_first, 3, c, 32, 32);
    for (uint32_t i = 0; i < info->blocks; i++) {
        char prefix[QSR__NAME_BYTES];
        format_name(prefix, "body.%u.conv1", i);
        add_conv_specs(list, prefix, &model->body[2 * i], c, c, info->bits_w, info->bits_a);
        format_name(prefix, "body.%u.conv2", i);
        add_conv_specs(list, prefix, &model->body[2 * i + 1], c, c, info->bits_w, info->bits_a);
        format_name(prefix, "body.%u.shortcut", i);
        add_spec(list, prefix, QSR__DTYPE_F32, 1, 1, 0, ROLE_SHORTCUT, NULL, i);
    }
    add_conv_specs(list, "conv_after_body", &model->conv_after_body, c, c, 32, 32);
    for (uint32_t k = 0; k < model->upsample_count; k++) {
        char prefix[QSR__NAME_BYTES];
        format_name(prefix, "upsample.%u", k);
        add_conv_specs(list, prefix, &model->upsample[k], c, r * r * c, 32, 32);
    }
    add_conv_specs(list, "conv_last", &model->conv_last, c, 3, 32, 32);
    return QSR_OK;
}

/* Adds a LayerNorm `prefix`.weight / .bias of width e. */
static void add_norm_specs(qsr__spec_list *list, const char *prefix, uint32_t e,
                           const float **weight, const float **bias) {
    add_target_spec(list, prefix, ".weight", QSR__DTYPE_F32, 1, e, 0, ROLE_VECTOR, (void *)weight);
    add_target_spec(list, prefix, ".bias", QSR__DTYPE_F32, 1, e, 0, ROLE_VECTOR, (void *)bias);
}

/* The attention quantizers of layer `p` ("layer.{i}."); quantized models only. */
static void add_attention_quant_specs(qsr__spec_list *list, const char *p, uint32_t e,
                                      qsr__t_layer *layer) {
    const char *names[3] = {"q", "k", "v"};
    qsr__act_quant *quants[3] = {&layer->q, &layer->k, &layer->v};
    for (int k = 0; k < 3; k++) {
        char prefix[QSR__NAME_BYTES];
        format_name(prefix, "%sattn.%s", p, names[k]);
        add_target_spec(list, prefix, ".act_step", QSR__DTYPE_F32, 1, 1, 0, ROLE_STEP,
                        &quants[k]->step);
        add_target_spec(list, prefix, ".act_shift", QSR__DTYPE_F32, 1, e, 0, ROLE_VECTOR,
                        (void *)&quants[k]->shift);
        add_target_spec(list, prefix, ".act_signed", QSR__DTYPE_I32, 1, 1, 0, ROLE_FLAG,
                        &quants[k]->is_signed);
    }
    add_target_spec(list, p, "attn.p.act_step", QSR__DTYPE_F32, 1, 1, 0, ROLE_STEP, &layer->p_step);
}

/* The tensors of Swin layer i (docs/model-format.md, "QuantSR-T (arch 2)", "Tensors"). */
static void add_swin_layer_specs(qsr__spec_list *list, const qsr_model_info *info, uint32_t i,
                                 qsr__t_layer *layer) {
    const uint32_t e = info->channels, hid = info->mlp_hidden, w = info->window;
    const uint32_t bw = info->bits_w, ba = info->bits_a;
    char p[QSR__NAME_BYTES], prefix[QSR__NAME_BYTES];
    format_name(p, "layer.%u.", i);
    format_name(prefix, "%snorm1", p);
    add_norm_specs(list, prefix, e, &layer->norm1_weight, &layer->norm1_bias);
    format_name(prefix, "%snorm2", p);
    add_norm_specs(list, prefix, e, &layer->norm2_weight, &layer->norm2_bias);
    format_name(prefix, "%sqkv", p);
    add_layer_specs(list, prefix, &layer->qkv, 2, e, 3 * e, bw, ba);
    add_target_spec(list, p, "attn.rel_bias", QSR__DTYPE_F32, 2, (2 * w - 1) * (2 * w - 1),
                    info->heads, ROLE_VECTOR, (void *)&layer->rel_bias);
    if (bw != 32) add_attention_quant_specs(list, p, e, layer);
    format_name(prefix, "%sproj", p);
    add_layer_specs(list, prefix, &layer->proj, 2, e, e, bw, ba);
    add_target_spec(list, p, "shortcut", QSR__DTYPE_F32, 1, 1, 0, ROLE_SCALAR, &layer->shortcut);
    format_name(prefix, "%sfc1", p);
    add_layer_specs(list, prefix, &layer->fc1, 2, e, hid, bw, ba);
    format_name(prefix, "%sfc2", p);
    add_layer_specs(list, prefix, &layer->fc2, 2, hid, e, bw, ba);
}

static qsr_status build_specs_t(qsr_model *model, qsr__spec_list *list) {
    const qsr_model_info *info = &model->info;
    const uint32_t e = info->channels, s = info->scale;
    qsr__t_parts *t = &model->t;
    /* conv_first, conv_after_body, upsample.0: 6; patch_norm, norm: 4; per layer: 4 linear
     * layers of up to 6 tensors, 4 norm tensors, rel_bias, 10 attention quantizer tensors and
     * the shortcut; per group: a conv of up to 6 tensors. */
    qsr_status st = alloc_specs(list, 10 + info->blocks * 40 + info->group_count * 6);
    if (st != QSR_OK) return st;
    add_conv_specs(list, "conv_first", &model->conv_first, 3, e, 32, 32);
    add_norm_specs(list, "patch_norm", e, &t->patch_norm_weight, &t->patch_norm_bias);
    for (uint32_t i = 0; i < info->blocks; i++)
        add_swin_layer_specs(list, info, i, &t->layers[i]);
    for (uint32_t g = 0; g < info->group_count; g++) {
        char prefix[QSR__NAME_BYTES];
        format_name(prefix, "group.%u.conv", g);
        add_conv_specs(list, prefix, &t->group_conv[g], e, e, info->bits_w, info->bits_a);
    }
    add_norm_specs(list, "norm", e, &t->norm_weight, &t->norm_bias);
    add_conv_specs(list, "conv_after_body", &model->conv_after_body, e, e, 32, 32);
    add_conv_specs(list, "upsample.0", &model->upsample[0], e, 3 * s * s, 32, 32);
    return QSR_OK;
}

static const char *dtype_name(uint32_t dtype) {
    return dtype == QSR__DTYPE_F32 ? "F32" : dtype == QSR__DTYPE_I32 ? "I32" : "QW";
}

static void format_shape(char *buf, size_t size, uint32_t ndim, const uint32_t *shape) {
    int n = snprintf(buf, size, "[");
    for (uint32_t d = 0; d < ndim && n > 0 && (size_t)n < size; d++)
        n += snprintf(buf + n, size - (size_t)n, d ? ", %u" : "%u", shape[d]);
    if (n > 0 && (size_t)n < size) snprintf(buf + n, size - (size_t)n, "]");
}

static int shape_matches(const qsr__spec *s, const qsr__entry *e) {
    if (s->role == ROLE_WEIGHT_STEP && e->ndim == 1 && e->shape[0] == 1) return 1; /* scalar */
    if (e->ndim != s->ndim) return 0;
    for (uint32_t d = 0; d < 4; d++)
        if (e->shape[d] != s->shape[d]) return 0;
    return 1;
}

static qsr__spec *find_spec(qsr__spec_list *list, const char *name) {
    for (uint32_t i = 0; i < list->count; i++)
        if (strcmp(list->items[i].name, name) == 0) return &list->items[i];
    return NULL;
}

/* Pairs every table entry with the tensor it names; unknown, duplicate, mistyped, misshapen
 * and missing tensors are errors. */
static qsr_status match_entries(qsr__spec_list *list, const qsr__entry *entries, uint32_t count,
                                uint32_t arch) {
    for (uint32_t i = 0; i < count; i++) {
        const qsr__entry *e = &entries[i];
        qsr__spec *s = find_spec(list, e->name);
        if (!s)
            return qsr__fail(QSR_ERROR_MODEL_CORRUPT,
                             "tensor '%s' (entry %u) is not a tensor of this %s model "
                             "(unknown name)",
                             e->name, i, arch_name(arch));
        if (s->entry >= 0)
            return qsr__fail(QSR_ERROR_MODEL_CORRUPT,
                             "tensor '%s' appears twice in the table (entries %lld and %u)",
                             e->name, (long long)s->entry, i);
        if (e->dtype != s->dtype)
            return qsr__fail(QSR_ERROR_MODEL_CORRUPT, "tensor '%s': dtype is %s, must be %s",
                             e->name, dtype_name(e->dtype), dtype_name(s->dtype));
        if (!shape_matches(s, e)) {
            char got[64], want[64];
            format_shape(got, sizeof got, e->ndim, e->shape);
            format_shape(want, sizeof want, s->ndim, s->shape);
            return qsr__fail(QSR_ERROR_MODEL_CORRUPT, "tensor '%s': shape is %s, must be %s%s",
                             e->name, got, want, s->role == ROLE_WEIGHT_STEP ? " or [1]" : "");
        }
        s->entry = i;
    }
    for (uint32_t k = 0; k < list->count; k++)
        if (list->items[k].entry < 0)
            return qsr__fail(QSR_ERROR_MODEL_CORRUPT, "tensor '%s' is missing from the table",
                             list->items[k].name);
    return QSR_OK;
}

/* ---------------------------------------------------------------------------------------------
 * Tensor values
 */
static qsr_status check_f32_values(const qsr__spec *s, const qsr__entry *e, const float *v) {
    int must_be_positive =
        s->role == ROLE_WEIGHT_STEP || s->role == ROLE_ACT_STEP || s->role == ROLE_STEP;
    for (size_t i = 0; i < e->count; i++) {
        if (!isfinite(v[i]))
            return qsr__fail(QSR_ERROR_MODEL_CORRUPT, "tensor '%s': element %zu is not finite (%g)",
                             e->name, i, (double)v[i]);
        if (must_be_positive && !(v[i] > 0.0f))
            return qsr__fail(QSR_ERROR_MODEL_CORRUPT,
                             "tensor '%s': step element %zu is %g, must be > 0", e->name, i,
                             (double)v[i]);
    }
    return QSR_OK;
}

static qsr_status check_i32_values(const qsr__entry *e, const int32_t *v) {
    /* The only I32 tensor of the format is act_signed, a 0/1 flag. */
    for (size_t i = 0; i < e->count; i++)
        if (v[i] != 0 && v[i] != 1)
            return qsr__fail(QSR_ERROR_MODEL_CORRUPT,
                             "tensor '%s': element %zu is %d, must be 0 or 1", e->name, i,
                             (int)v[i]);
    return QSR_OK;
}

/* Index of the first 4-bit field that does not hold a sign-extended 3-bit code (its top two
 * bits differ), or `count` if all do. Whole words are tested at once: bit 3 of every field is
 * shifted onto bit 2 and compared. */
static size_t first_bad_3bit_code(const uint32_t *words, size_t count) {
    size_t word_count = (count + 7) / 8;
    for (size_t w = 0; w < word_count; w++) {
        uint32_t bad = (words[w] ^ (words[w] >> 1)) & 0x44444444u;
        if (!bad) continue;
        for (size_t k = 0; k < 8; k++)
            if (bad >> (4 * k) & 4u) return w * 8 + k;
    }
    return count;
}

static qsr_status check_qw_values(const qsr__entry *e, const uint32_t *words) {
    /* 2- and 4-bit codes fill their containers, so any field value is in range; a 3-bit code
     * sign-extended into 4 bits must lie in [-4, 3]. */
    if (e->bits == 3) {
        size_t bad = first_bad_3bit_code(words, e->count);
        if (bad < e->count)
            return qsr__fail(QSR_ERROR_MODEL_CORRUPT,
                             "tensor '%s': code %zu is %d, outside the 3-bit range [-4, 3]",
                             e->name, bad, (int)qsr__qw_get(words, e->bits, bad));
    }
    uint32_t container = qw_container_bits(e->bits);
    size_t per_word = 32u / container;
    size_t used = e->count % per_word;
    if (used != 0) {
        uint32_t last = words[e->count / per_word];
        if ((last >> (used * container)) != 0)
            return qsr__fail(QSR_ERROR_MODEL_CORRUPT,
                             "tensor '%s': unused fields of the last word are not zero (0x%08x)",
                             e->name, last);
    }
    return QSR_OK;
}

static qsr_status check_values(const qsr__spec *s, const qsr__entry *e, const uint8_t *data) {
    const void *p = data + e->offset;
    if (e->dtype == QSR__DTYPE_F32) return check_f32_values(s, e, (const float *)p);
    if (e->dtype == QSR__DTYPE_I32) return check_i32_values(e, (const int32_t *)p);
    return check_qw_values(e, (const uint32_t *)p);
}

/* Unpacks a whole QW tensor, a word at a time. */
static void unpack_codes(const uint32_t *words, uint32_t bits, size_t count, int8_t *out) {
    const uint32_t container = qw_container_bits(bits), per_word = 32u / container;
    const uint32_t mask = (1u << container) - 1, sign = 1u << (container - 1);
    size_t i = 0;
    for (size_t w = 0; i < count; w++) {
        uint32_t word = words[w];
        for (uint32_t k = 0; k < per_word && i < count; k++, i++, word >>= container)
            out[i] = (int8_t)((int32_t)((word & mask) ^ sign) - (int32_t)sign);
    }
}

/* Points the model at one validated tensor, unpacking or expanding it where the runtime wants
 * another form. */
static qsr_status bind_tensor(qsr_model *model, const qsr__spec *s, const qsr__entry *e,
                              const uint8_t *data) {
    const void *p = data + e->offset;
    qsr__conv *conv = s->conv;
    switch (s->role) {
    case ROLE_WEIGHT:
        if (e->dtype == QSR__DTYPE_F32) {
            conv->weight = (const float *)p;
            return QSR_OK;
        }
        conv->qweight = (const uint32_t *)p;
        conv->wcode = (int8_t *)malloc(e->count);
        if (!conv->wcode)
            return qsr__fail(QSR_ERROR_OUT_OF_HOST_MEMORY,
                             "cannot allocate %zu bytes for the codes of '%s'", e->count, e->name);
        unpack_codes(conv->qweight, e->bits, e->count, conv->wcode);
        return QSR_OK;
    case ROLE_BIAS:
        conv->bias = (const float *)p;
        return QSR_OK;
    case ROLE_WEIGHT_STEP:
        conv->weight_step = (float *)malloc(sizeof(float) * conv->cout);
        if (!conv->weight_step)
            return qsr__fail(QSR_ERROR_OUT_OF_HOST_MEMORY, "cannot allocate the steps of '%s'",
                             e->name);
        for (uint32_t o = 0; o < conv->cout; o++)
            conv->weight_step[o] = ((const float *)p)[e->count == 1 ? 0 : o];
        return QSR_OK;
    case ROLE_ACT_STEP:
        conv->act_step = *(const float *)p;
        return QSR_OK;
    case ROLE_ACT_SHIFT:
        conv->act_shift = (const float *)p;
        return QSR_OK;
    case ROLE_ACT_SIGNED:
        conv->act_signed = *(const int32_t *)p;
        return QSR_OK;
    case ROLE_SHORTCUT:
        model->shortcut[s->block] = *(const float *)p;
        return QSR_OK;
    case ROLE_VECTOR:
        *(const float **)s->target = (const float *)p;
        return QSR_OK;
    case ROLE_SCALAR:
    case ROLE_STEP:
        *(float *)s->target = *(const float *)p;
        return QSR_OK;
    case ROLE_FLAG:
        *(int *)s->target = *(const int32_t *)p;
        return QSR_OK;
    }
    return QSR_OK;
}

/* ---------------------------------------------------------------------------------------------
 * Loading
 */
static void free_conv_arrays(qsr__conv *conv) {
    free(conv->wcode);
    free(conv->weight_step);
    conv->wcode = NULL;
    conv->weight_step = NULL;
}

static void free_t_parts(qsr__t_parts *t, uint32_t blocks, uint32_t groups) {
    if (t->layers)
        for (uint32_t i = 0; i < blocks; i++) {
            free_conv_arrays(&t->layers[i].qkv);
            free_conv_arrays(&t->layers[i].proj);
            free_conv_arrays(&t->layers[i].fc1);
            free_conv_arrays(&t->layers[i].fc2);
        }
    if (t->group_conv)
        for (uint32_t g = 0; g < groups; g++)
            free_conv_arrays(&t->group_conv[g]);
    free(t->layers);
    free(t->group_conv);
    t->layers = NULL;
    t->group_conv = NULL;
}

void qsr_model_destroy(qsr_model *model) {
    if (!model) return;
    if (model->body)
        for (uint32_t i = 0; i < 2 * model->info.blocks; i++)
            free_conv_arrays(&model->body[i]);
    free(model->body);
    free(model->shortcut);
    free_t_parts(&model->t, model->info.blocks, model->info.group_count);
    aligned_buffer_free(model->data);
    free(model);
}

static qsr_status parse_table(const uint8_t *data, size_t size, const qsr_model_info *info,
                              const qsr__layout *layout, qsr__entry *entries) {
    for (uint32_t i = 0; i < info->tensor_count; i++) {
        qsr_status st = parse_entry(data, size, info, layout->data_offset, i, &entries[i]);
        if (st != QSR_OK) return st;
    }
    return check_no_overlap(entries, info->tensor_count);
}

static qsr_status bind_all(qsr_model *model, const qsr__spec_list *list,
                           const qsr__entry *entries) {
    const uint8_t *data = (const uint8_t *)model->data;
    for (uint32_t k = 0; k < list->count; k++) {
        const qsr__spec *s = &list->items[k];
        const qsr__entry *e = &entries[s->entry];
        qsr_status st = check_values(s, e, data);
        if (st == QSR_OK) st = bind_tensor(model, s, e, data);
        if (st != QSR_OK) return st;
    }
    model->info.parameters = 0;
    for (uint32_t i = 0; i < model->info.tensor_count; i++)
        model->info.parameters += entries[i].count;
    return QSR_OK;
}

/* QuantSR-T: the per-layer and per-group arrays; one upsampler stage of factor `scale`. */
static qsr_status prepare_model_t(qsr_model *model) {
    const qsr_model_info *info = &model->info;
    model->t.layers = (qsr__t_layer *)calloc(info->blocks, sizeof *model->t.layers);
    model->t.group_conv = (qsr__conv *)calloc(info->group_count, sizeof *model->t.group_conv);
    if (!model->t.layers || !model->t.group_conv)
        return qsr__fail(QSR_ERROR_OUT_OF_HOST_MEMORY, "cannot allocate %u layers and %u groups",
                         info->blocks, info->group_count);
    model->upsample_count = 1;
    model->upsample_factor = info->scale;
    return QSR_OK;
}

/* Allocates the per-block arrays and fixes the upsampler from the validated header. */
static qsr_status prepare_model_c(qsr_model *model) {
    uint32_t blocks = model->info.blocks;
    model->body = (qsr__conv *)calloc(2 * (size_t)blocks, sizeof *model->body);
    model->shortcut = (float *)calloc(blocks, sizeof *model->shortcut);
    if (!model->body || !model->shortcut)
        return qsr__fail(QSR_ERROR_OUT_OF_HOST_MEMORY, "cannot allocate %u blocks", blocks);
    model->upsample_count = model->info.scale == 4 ? 2 : 1;
    model->upsample_factor = model->info.scale == 3 ? 3 : 2;
    return QSR_OK;
}

const qsr__model_schema qsr__model_schema_c = {check_t_fields_zero, prepare_model_c, build_specs_c};
const qsr__model_schema qsr__model_schema_t = {check_t_fields, prepare_model_t, build_specs_t};

/* Builds a model from an aligned buffer holding the file, which the model then owns (it is
 * freed on failure too). */
static qsr_status load_owned_buffer(void *buffer, size_t size, qsr_model **out) {
    const uint8_t *data = (const uint8_t *)buffer;
    qsr_model *model = (qsr_model *)calloc(1, sizeof *model);
    if (!model) {
        aligned_buffer_free(buffer);
        return qsr__fail(QSR_ERROR_OUT_OF_HOST_MEMORY, "cannot allocate the model");
    }
    model->data = buffer;
    model->data_size = size;
    qsr__layout layout;
    qsr__entry *entries = NULL;
    qsr__spec_list specs = {0};
    qsr_status st = parse_header(data, size, &model->info, &layout);
    if (st == QSR_OK) {
        entries = (qsr__entry *)calloc(model->info.tensor_count, sizeof *entries);
        if (!entries)
            st = qsr__fail(QSR_ERROR_OUT_OF_HOST_MEMORY, "cannot allocate the tensor table");
    }
    if (st == QSR_OK) st = parse_table(data, size, &model->info, &layout, entries);
    /* The architecture table gives the file's schema (parse_header checked the arch). */
    const qsr__model_schema *schema =
        st == QSR_OK ? qsr__arch_find(model->info.arch)->schema : NULL;
    if (st == QSR_OK) st = schema->prepare(model);
    if (st == QSR_OK) st = schema->tensors(model, &specs);
    if (st == QSR_OK)
        st = match_entries(&specs, entries, model->info.tensor_count, model->info.arch);
    if (st == QSR_OK) st = bind_all(model, &specs, entries);
    free(specs.items);
    free(entries);
    if (st != QSR_OK) {
        qsr_model_destroy(model);
        return st;
    }
    *out = model;
    return QSR_OK;
}

static qsr_status check_load_arguments(size_t size, qsr_model **out) {
    if (!out) return qsr__fail(QSR_ERROR_INVALID_ARGUMENT, "qsr_model_load: out is NULL");
    if (!host_is_little_endian())
        return qsr__fail(QSR_ERROR_UNSUPPORTED,
                         ".qsr models are little-endian and this host is not");
    if ((uint64_t)size > QSR__MAX_FILE_BYTES)
        return qsr__fail(QSR_ERROR_LIMIT, "model is %llu bytes, larger than the 2 GiB limit",
                         (unsigned long long)size);
    return QSR_OK;
}

qsr_status qsr_model_load_memory(const void *data, size_t size, qsr_model **out) {
    qsr_status st = check_load_arguments(size, out);
    if (st != QSR_OK) return st;
    if (!data && size > 0)
        return qsr__fail(QSR_ERROR_INVALID_ARGUMENT, "qsr_model_load_memory: data is NULL");
    if (size == 0)
        return qsr__fail(QSR_ERROR_MODEL_CORRUPT,
                         "file is truncated: 0 bytes, smaller than the %u-byte header",
                         QSR__HEADER_BYTES);
    void *copy = aligned_buffer(size);
    if (!copy)
        return qsr__fail(QSR_ERROR_OUT_OF_HOST_MEMORY, "cannot allocate %zu bytes for the model",
                         size);
    memcpy(copy, data, size);
    return load_owned_buffer(copy, size, out);
}

/* Reads a whole file into a new aligned buffer. */
static qsr_status read_file(const char *path, void **out_data, size_t *out_size) {
    FILE *f = qsr__fopen(path, "rb");
    if (!f) return qsr__fail(QSR_ERROR_IO, "%s: cannot open: %s", path, strerror(errno));
    /* fopen accepts a directory on POSIX systems, and a pipe has no size to read ahead. The
     * size comes from the file system, not ftell, whose long is 32 bits on Windows. */
    uint64_t end = 0;
    int err = qsr__regular_file_size(f, &end);
    if (err) {
        fclose(f);
        if (err == EISDIR || err == EINVAL)
            return qsr__fail(QSR_ERROR_IO, "%s: not a regular file", path);
        return qsr__fail(QSR_ERROR_IO, "%s: cannot determine the file size: %s", path,
                         strerror(err));
    }
    if (end > QSR__MAX_FILE_BYTES) {
        fclose(f);
        return qsr__fail(QSR_ERROR_LIMIT, "%s: model is %llu bytes, larger than the 2 GiB limit",
                         path, (unsigned long long)end);
    }
    size_t size = (size_t)end;
    /* Ask for one byte more than the size so a file that grew is noticed. */
    void *data = aligned_buffer(size + 1);
    if (!data) {
        fclose(f);
        return qsr__fail(QSR_ERROR_OUT_OF_HOST_MEMORY,
                         "%s: cannot allocate %zu bytes for the model", path, size);
    }
    errno = 0;
    size_t got = fread(data, 1, size + 1, f);
    int read_failed = ferror(f), read_errno = errno;
    fclose(f);
    if (read_failed || got != size) {
        aligned_buffer_free(data);
        if (read_failed)
            return qsr__fail(QSR_ERROR_IO, "%s: read error: %s", path,
                             strerror(read_errno ? read_errno : EIO));
        return qsr__fail(QSR_ERROR_IO, "%s: the file changed size while being read", path);
    }
    *out_data = data;
    *out_size = size;
    return QSR_OK;
}

qsr_status qsr_model_load_file(const char *path, qsr_model **out) {
    if (!path) return qsr__fail(QSR_ERROR_INVALID_ARGUMENT, "qsr_model_load_file: path is NULL");
    qsr_status st = check_load_arguments(0, out);
    if (st != QSR_OK) return st;
    void *data = NULL;
    size_t size = 0;
    if ((st = read_file(path, &data, &size)) != QSR_OK) return st;
    if (size == 0) {
        aligned_buffer_free(data);
        return qsr__fail(QSR_ERROR_MODEL_CORRUPT,
                         "%s: file is truncated: 0 bytes, smaller than the %u-byte header", path,
                         QSR__HEADER_BYTES);
    }
    st = load_owned_buffer(data, size, out);
    if (st != QSR_OK) return qsr__fail_context(st, "%s", path);
    return QSR_OK;
}

/* ---------------------------------------------------------------------------------------------
 * Queries
 */
qsr_status qsr_model_get_info(const qsr_model *model, qsr_model_info *out) {
    if (!model || !out)
        return qsr__fail(QSR_ERROR_INVALID_ARGUMENT, "qsr_model_get_info: %s is NULL",
                         model ? "out" : "model");
    *out = model->info;
    return QSR_OK;
}

uint64_t qsr_model_macs_per_pixel(const qsr_model *model, uint32_t depth) {
    if (!model) return 0;
    const qsr__arch *a = qsr__arch_find(model->info.arch);
    if (!a) return 0;
    return a->macs_per_pixel(&model->info, qsr__arch_active_blocks(&model->info, depth));
}

const char *qsr_arch_name(uint32_t arch) {
    return arch_name(arch);
}

uint32_t qsr_model_capabilities(const qsr_model *model) {
    const qsr__arch *a = model ? qsr__arch_find(model->info.arch) : NULL;
    if (!a) return 0;
    int gpu = a->program && !(a->program->quantized_only && model->info.bits_w == 32);
    return (gpu ? QSR_MODEL_CAP_GPU : 0u) | (a->region_exact ? QSR_MODEL_CAP_REGION_EXACT : 0u);
}

qsr_status qsr_model_check_depth(const qsr_model *model, uint32_t depth, int any_depth) {
    if (!model) return qsr__fail(QSR_ERROR_INVALID_ARGUMENT, "qsr_model_check_depth: no model");
    const qsr_model_info *info = &model->info;
    if (depth == 0) return QSR_OK;
    if (any_depth) {
        if (depth <= info->blocks) return QSR_OK;
        return qsr__fail(QSR_ERROR_INVALID_ARGUMENT,
                         "depth %u is out of range: the model has %u blocks (valid: 0 to %u)",
                         depth, info->blocks, info->blocks);
    }
    char levels[8 * 12] = "";
    size_t n = 0;
    for (uint32_t i = 0; i < info->depth_level_count; i++) {
        if (info->depth_levels[i] == depth) return QSR_OK;
        n += (size_t)snprintf(levels + n, sizeof levels - n, i ? ", %u" : "%u",
                              info->depth_levels[i]);
        if (n >= sizeof levels) n = sizeof levels - 1;
    }
    return qsr__fail(QSR_ERROR_INVALID_ARGUMENT,
                     "depth %u is not one of the model's depth levels (%s; 0 = all blocks)", depth,
                     levels);
}
