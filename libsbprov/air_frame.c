/* From decoded sensor records to room samples: the one place that knows which
 * frame reading kinds a room uses (docs/air.md, "Feeding frames"). */
#include "error.h"
#include "frame_internal.h"

#include "sbprov/air.h"

sbprov_result sbprov_air_sample_from_frame(sbprov_air_sample *sample, const sbprov_frame *frame, int64_t time_ms)
{
    sbprov_result rc;

    if (sample == NULL)
        return sbprov__fail(SBPROV_EINVAL, "air sample from frame: sample is NULL");
    if ((rc = sbprov__frame_view_check("air sample from frame", frame)) != SBPROV_OK)
        return rc;
    if (time_ms < 0)
        return sbprov__fail(SBPROV_EINVAL, "air sample from frame: time_ms %lld is negative", (long long)time_ms);
    if ((rc = sbprov_air_sample_init(sample, sizeof *sample)) != SBPROV_OK)
        return rc;
    sample->time_ms = time_ms;
    for (size_t i = 0; i < frame->reading_count; i++) {
        const sbprov_frame_reading *r = &frame->readings[i];
        if (!r->valid) /* out of its range: the sensor failed, not the room */
            continue;
        switch (r->kind) {
        case SBPROV_FRAME_KIND_CO2_PPM:
            sample->has_co2 = 1;
            sample->co2_ppm = (uint32_t)r->value;
            break;
        case SBPROV_FRAME_KIND_MOTION:
            sample->has_motion = 1;
            sample->motion = (uint32_t)r->value;
            break;
        case SBPROV_FRAME_KIND_TEMPERATURE_C:
            sample->has_temperature = 1;
            sample->temperature_centi_c = (int32_t)r->value;
            break;
        case SBPROV_FRAME_KIND_HUMIDITY_PCT:
            sample->has_humidity = 1;
            sample->humidity_centi_pct = (uint32_t)r->value;
            break;
        default: /* VOC, pressure, light, battery: reported, not used for rooms */
            break;
        }
    }
    return SBPROV_OK;
}

sbprov_result sbprov_air_building_update_frame(sbprov_air_building *building, const sbprov_frame *frame,
                                               int64_t time_ms)
{
    sbprov_air_sample sample;
    sbprov_result rc;

    if (building == NULL || frame == NULL)
        return sbprov__fail(SBPROV_EINVAL, "air building: NULL argument");
    if ((rc = sbprov_air_sample_from_frame(&sample, frame, time_ms)) != SBPROV_OK)
        return rc;
    return sbprov_air_building_update(building, frame->node_id, &sample);
}
