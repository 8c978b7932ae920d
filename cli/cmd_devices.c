/* cmd_devices.c - `quantsr devices`: the Vulkan devices and the features quantsr uses.
 *
 * JSON keys (for docs/cli.md): {"devices": [ per device:
 *   index (int, what -g takes: the position in the list, from 1), name, type ("discrete GPU", ...),
 * vendor_id, device_id, api_version (string "1.3.230"), subgroup_size, max_storage_buffer_range
 * (bytes), device_local_bytes, shader_int8, storage_8bit, storage_16bit, shader_float16,
 *   integer_dot_product, integer_dot_product_accelerated (booleans), shader_int16 (boolean),
 *   max_workgroup_invocations, max_workgroup_size ([x, y, z]), max_workgroup_count ([x, y, z]),
 *   max_shared_memory_bytes, max_texel_buffer_elements, max_push_constant_bytes,
 *   memory_budget_cap (bytes, 0 = none), limits_forced (boolean: QSR_FORCE_LIMITS is in
 *   effect and the limits and features shown are the forced ones) ]}
 * The exit status is 1 when no device is found.
 */
#include "args.h"
#include "cli.h"
#include "json.h"

#include <stdlib.h>
#include <string.h>

/* VK_API_VERSION_MAJOR / MINOR / PATCH, without the Vulkan headers. */
static void format_api_version(uint32_t v, char *buf, size_t cap) {
    snprintf(buf, cap, "%u.%u.%u", (v >> 22) & 0x7Fu, (v >> 12) & 0x3FFu, v & 0xFFFu);
}

static const char *yes_no(int v) {
    return v ? "yes" : "no";
}

/* `number` is what -g takes: the position in qsr_device_list plus one (0 means automatic). */
static void print_device_text(uint32_t number, const qsr_device_info *d) {
    char api[32];
    format_api_version(d->api_version, api, sizeof api);
    printf("%u: %s (%s)\n", number, d->name, qsr_device_type_name(d->type));
    printf("   vendor 0x%04x, device 0x%04x, Vulkan %s\n", d->vendor_id, d->device_id, api);
    printf("   subgroup size %u, max storage buffer %.1f MiB, device-local memory %.1f MiB\n",
           d->subgroup_size, (double)d->max_storage_buffer_range / (1024.0 * 1024.0),
           (double)d->device_local_bytes / (1024.0 * 1024.0));
    printf("   shader int8 %s, 8-bit storage %s, 16-bit storage %s, shader float16 %s\n",
           yes_no(d->shader_int8), yes_no(d->storage_8bit), yes_no(d->storage_16bit),
           yes_no(d->shader_float16));
    printf("   integer dot product %s (4x8-bit accelerated %s), shader int16 %s\n",
           yes_no(d->integer_dot_product), yes_no(d->integer_dot_product_accelerated),
           yes_no(d->shader_int16));
    printf("   workgroups: %u invocations, size %ux%ux%u, count %ux%ux%u, %u bytes shared\n",
           d->max_workgroup_invocations, d->max_workgroup_size[0], d->max_workgroup_size[1],
           d->max_workgroup_size[2], d->max_workgroup_count[0], d->max_workgroup_count[1],
           d->max_workgroup_count[2], d->max_shared_memory_bytes);
    printf("   texel buffers %u elements, push constants %u bytes%s\n",
           d->max_texel_buffer_elements, d->max_push_constant_bytes,
           d->limits_forced ? " (limits forced by QSR_FORCE_LIMITS)" : "");
    if (d->memory_budget_cap)
        printf("   activation budget capped at %.1f MiB\n",
               (double)d->memory_budget_cap / (1024.0 * 1024.0));
}

static void json_triple(cli_json *j, const char *key, const uint32_t v[3]) {
    cli_json_array(j, key, 1);
    for (int i = 0; i < 3; i++)
        cli_json_uint(j, NULL, v[i]);
    cli_json_close(j);
}

static void print_device_json(cli_json *j, uint32_t number, const qsr_device_info *d) {
    char api[32];
    format_api_version(d->api_version, api, sizeof api);
    cli_json_object(j, NULL);
    cli_json_uint(j, "index", number);
    cli_json_string(j, "name", d->name);
    cli_json_string(j, "type", qsr_device_type_name(d->type));
    cli_json_uint(j, "vendor_id", d->vendor_id);
    cli_json_uint(j, "device_id", d->device_id);
    cli_json_string(j, "api_version", api);
    cli_json_uint(j, "subgroup_size", d->subgroup_size);
    cli_json_uint(j, "max_storage_buffer_range", d->max_storage_buffer_range);
    cli_json_uint(j, "device_local_bytes", d->device_local_bytes);
    cli_json_bool(j, "shader_int8", d->shader_int8);
    cli_json_bool(j, "storage_8bit", d->storage_8bit);
    cli_json_bool(j, "storage_16bit", d->storage_16bit);
    cli_json_bool(j, "shader_float16", d->shader_float16);
    cli_json_bool(j, "integer_dot_product", d->integer_dot_product);
    cli_json_bool(j, "integer_dot_product_accelerated", d->integer_dot_product_accelerated);
    cli_json_bool(j, "shader_int16", d->shader_int16);
    cli_json_uint(j, "max_workgroup_invocations", d->max_workgroup_invocations);
    json_triple(j, "max_workgroup_size", d->max_workgroup_size);
    json_triple(j, "max_workgroup_count", d->max_workgroup_count);
    cli_json_uint(j, "max_shared_memory_bytes", d->max_shared_memory_bytes);
    cli_json_uint(j, "max_texel_buffer_elements", d->max_texel_buffer_elements);
    cli_json_uint(j, "max_push_constant_bytes", d->max_push_constant_bytes);
    cli_json_uint(j, "memory_budget_cap", d->memory_budget_cap);
    cli_json_bool(j, "limits_forced", d->limits_forced);
    cli_json_close(j);
}

/* Lists the devices into a new array; returns an exit code. */
static int list_devices(qsr_device_info **out, uint32_t *count) {
    uint32_t n = 0;
    if (qsr_device_list(NULL, &n) != QSR_OK) return cli_fail("cannot list Vulkan devices");
    qsr_device_info *infos = calloc(n ? n : 1, sizeof *infos);
    if (infos == NULL) {
        cli_error("out of memory listing %u devices", n);
        return CLI_EXIT_FAILURE;
    }
    if (n > 0 && qsr_device_list(infos, &n) != QSR_OK) {
        free(infos);
        return cli_fail("cannot list Vulkan devices");
    }
    *out = infos;
    *count = n;
    return CLI_EXIT_OK;
}

int cmd_devices(int argc, char **argv) {
    int json = 0;
    const cli_option options[] = {
        {0, "json", CLI_ARG_FLAG, &json, NULL, "print one JSON object"},
    };
    const cli_command_spec spec = {
        "devices",
        "[--json]",
        "Lists every Vulkan device with the features quantsr uses. The number in front of\n"
        "each is what `upscale -g N` takes; 0 picks automatically (discrete > integrated >\n"
        "virtual > CPU, or the QSR_DEVICE environment variable).",
        options,
        sizeof options / sizeof options[0],
        NULL,
    };
    cli_parse_result r = cli_parse_args(&spec, argc, argv);
    if (r != CLI_PARSE_OK) return r == CLI_PARSE_HELP ? CLI_EXIT_OK : CLI_EXIT_USAGE;
    if (cli_parse_only) return CLI_EXIT_OK;
    qsr_device_info *infos = NULL;
    uint32_t count = 0;
    int code = list_devices(&infos, &count);
    if (code != CLI_EXIT_OK) return code;
    if (json) {
        cli_json j;
        cli_json_begin(&j, stdout);
        cli_json_array(&j, "devices", 0);
        for (uint32_t i = 0; i < count; i++)
            print_device_json(&j, i + 1, &infos[i]);
        cli_json_end(&j);
    } else {
        for (uint32_t i = 0; i < count; i++)
            print_device_text(i + 1, &infos[i]);
    }
    if (count == 0) cli_error("no Vulkan device found (is a Vulkan driver installed?)");
    free(infos);
    return count ? CLI_EXIT_OK : CLI_EXIT_FAILURE;
}
