/* A building: named rooms, each with its own options, and the sensor nodes
 * placed in them (docs/air.md). Rooms and nodes are added at configuration
 * time; feeding samples allocates nothing. Nodes are kept sorted by ID for a
 * binary search per sample. */
#include "air_internal.h"

#include "error.h"
#include "options.h"

#include <stdlib.h>
#include <string.h>

#define MAX_ROOMS 4096
#define MAX_NODES 65536

typedef struct node_entry {
    uint64_t id;
    size_t room; /* index into rooms */
} node_entry;

struct sbprov_air_building {
    sbprov_air_room **rooms;
    size_t room_count;
    size_t room_cap;
    node_entry *nodes; /* sorted by id */
    size_t node_count;
    size_t node_cap;
};

sbprov_result sbprov_air_building_new(sbprov_air_building **out)
{
    if (out == NULL)
        return sbprov__fail(SBPROV_EINVAL, "air building: NULL output");
    *out = calloc(1, sizeof **out);
    if (*out == NULL)
        return sbprov__fail(SBPROV_ENOMEM, "air building: out of memory");
    return SBPROV_OK;
}

void sbprov_air_building_free(sbprov_air_building *building)
{
    if (building == NULL)
        return;
    for (size_t i = 0; i < building->room_count; i++)
        sbprov__air_room_destroy(building->rooms[i]);
    free(building->rooms);
    free(building->nodes);
    free(building);
}

static sbprov_result check_name(const char *name)
{
    size_t n = strlen(name);

    if (n == 0)
        return sbprov__fail(SBPROV_EINVAL, "air building: empty room name");
    if (n >= SBPROV_AIR_NAME_SIZE)
        return sbprov__fail(SBPROV_EINVAL, "air building: room name of %zu bytes is too long (at most %d)", n,
                            SBPROV_AIR_NAME_SIZE - 1);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)name[i] < 0x20 || (unsigned char)name[i] > 0x7e)
            return sbprov__fail(SBPROV_EINVAL,
                                "air building: room name has byte 0x%02x at position %zu (printable ASCII only)",
                                (unsigned char)name[i], i);
    return SBPROV_OK;
}

/* Index of the room named `name`, or room_count. */
static size_t find_room(const sbprov_air_building *b, const char *name)
{
    size_t i;
    for (i = 0; i < b->room_count; i++)
        if (strcmp(sbprov_air_room_name(b->rooms[i]), name) == 0)
            break;
    return i;
}

/* Position of node `id` in the sorted table, or where it would go; *found. */
static size_t find_node(const sbprov_air_building *b, uint64_t id, int *found)
{
    size_t lo = 0, hi = b->node_count;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (b->nodes[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    *found = lo < b->node_count && b->nodes[lo].id == id;
    return lo;
}

sbprov_result sbprov_air_building_add_room(sbprov_air_room **out, sbprov_air_building *building, const char *name,
                                           const sbprov_air_room_options *opts)
{
    sbprov_air_room *room = NULL;
    sbprov_result rc;

    if (out != NULL)
        *out = NULL;
    if (building == NULL || name == NULL)
        return sbprov__fail(SBPROV_EINVAL, "air building: NULL argument");
    if ((rc = check_name(name)) != SBPROV_OK)
        return rc;
    if (find_room(building, name) < building->room_count)
        return sbprov__fail(SBPROV_EEXISTS, "air building: a room named \"%s\" exists", name);
    if (building->room_count == MAX_ROOMS)
        return sbprov__fail(SBPROV_EINVAL, "air building: already %d rooms, the most a building holds", MAX_ROOMS);
    if (building->room_count == building->room_cap) {
        size_t cap = building->room_cap == 0 ? 8 : building->room_cap * 2;
        sbprov_air_room **rooms = realloc(building->rooms, cap * sizeof *rooms);
        if (rooms == NULL)
            return sbprov__fail(SBPROV_ENOMEM, "air building: out of memory");
        building->rooms = rooms;
        building->room_cap = cap;
    }
    if ((rc = sbprov__air_room_create(&room, opts, name, 1)) != SBPROV_OK)
        return rc;
    building->rooms[building->room_count++] = room;
    if (out != NULL)
        *out = room;
    return SBPROV_OK;
}

sbprov_result sbprov_air_building_add_node(sbprov_air_building *building, uint64_t node_id, const char *room)
{
    size_t r, pos;
    int found;

    if (building == NULL || room == NULL)
        return sbprov__fail(SBPROV_EINVAL, "air building: NULL argument");
    if ((r = find_room(building, room)) == building->room_count)
        return sbprov__fail(SBPROV_ENOTFOUND, "air building: no room named \"%.63s\"", room);
    pos = find_node(building, node_id, &found);
    if (found)
        return sbprov__fail(SBPROV_EEXISTS, "air building: node %016llx is already in room \"%s\"",
                            (unsigned long long)node_id,
                            sbprov_air_room_name(building->rooms[building->nodes[pos].room]));
    if (building->node_count == MAX_NODES)
        return sbprov__fail(SBPROV_EINVAL, "air building: already %d nodes, the most a building holds", MAX_NODES);
    if (building->node_count == building->node_cap) {
        size_t cap = building->node_cap == 0 ? 16 : building->node_cap * 2;
        node_entry *nodes = realloc(building->nodes, cap * sizeof *nodes);
        if (nodes == NULL)
            return sbprov__fail(SBPROV_ENOMEM, "air building: out of memory");
        building->nodes = nodes;
        building->node_cap = cap;
    }
    memmove(building->nodes + pos + 1, building->nodes + pos, (building->node_count - pos) * sizeof *building->nodes);
    building->nodes[pos].id = node_id;
    building->nodes[pos].room = r;
    building->node_count++;
    return SBPROV_OK;
}

sbprov_result sbprov_air_building_room_for_node(sbprov_air_room **out, sbprov_air_building *building,
                                                uint64_t node_id)
{
    size_t pos;
    int found;

    if (out == NULL || building == NULL)
        return sbprov__fail(SBPROV_EINVAL, "air building: NULL argument");
    *out = NULL;
    pos = find_node(building, node_id, &found);
    if (!found)
        return sbprov__fail(SBPROV_ENOTFOUND, "air building: node %016llx is in no room",
                            (unsigned long long)node_id);
    *out = building->rooms[building->nodes[pos].room];
    return SBPROV_OK;
}

sbprov_result sbprov_air_building_update(sbprov_air_building *building, uint64_t node_id,
                                         const sbprov_air_sample *sample)
{
    sbprov_air_room *room;
    sbprov_result rc;

    if (building == NULL || sample == NULL)
        return sbprov__fail(SBPROV_EINVAL, "air building: NULL argument");
    if ((rc = sbprov_air_building_room_for_node(&room, building, node_id)) != SBPROV_OK)
        return rc;
    return sbprov_air_room_update(room, sample);
}

sbprov_result sbprov_air_building_room(sbprov_air_room **out, sbprov_air_building *building, const char *name)
{
    size_t r;

    if (out == NULL || building == NULL || name == NULL)
        return sbprov__fail(SBPROV_EINVAL, "air building: NULL argument");
    *out = NULL;
    if ((r = find_room(building, name)) == building->room_count)
        return sbprov__fail(SBPROV_ENOTFOUND, "air building: no room named \"%.63s\"", name);
    *out = building->rooms[r];
    return SBPROV_OK;
}

size_t sbprov_air_building_room_count(const sbprov_air_building *building)
{
    return building != NULL ? building->room_count : 0;
}

sbprov_result sbprov_air_building_room_at(sbprov_air_room **out, sbprov_air_building *building, size_t index)
{
    if (out == NULL || building == NULL)
        return sbprov__fail(SBPROV_EINVAL, "air building: NULL argument");
    *out = NULL;
    if (index >= building->room_count)
        return sbprov__fail(SBPROV_ENOTFOUND, "air building: no room at index %zu (%zu rooms)", index,
                            building->room_count);
    *out = building->rooms[index];
    return SBPROV_OK;
}

sbprov_result sbprov_air_building_next_event(sbprov_air_event *out, sbprov_air_building *building)
{
    sbprov_air_room *first = NULL;
    int64_t first_time = 0;

    if (building == NULL)
        return sbprov__fail(SBPROV_EINVAL, "air event: NULL building");
    for (size_t i = 0; i < building->room_count; i++) {
        int64_t t;
        if (sbprov__air_room_peek_time(building->rooms[i], &t) && (first == NULL || t < first_time)) {
            first = building->rooms[i];
            first_time = t;
        }
    }
    if (first == NULL && building->room_count > 0)
        first = building->rooms[0]; /* every queue is empty: gives NONE */
    if (first == NULL) {
        sbprov_air_event none;
        memset(&none, 0, sizeof none);
        none.struct_size = sizeof none;
        none.ms_since_motion = -1;
        return sbprov__options_store(out, &none, sizeof none, sizeof none, "air event");
    }
    return sbprov_air_room_next_event(out, first);
}
