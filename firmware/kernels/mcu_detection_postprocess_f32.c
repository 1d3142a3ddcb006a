/*
 * mcu_detection_postprocess_f32.c - TFLite_Detection_PostProcess (SSD detectors'
 * last op), float32 in and out, as TFLM's micro/kernels/detection_postprocess.cc:
 *
 * 1. Box decoding: each box encoding (y, x, h, w) against its anchor
 *    (ycenter, xcenter, h, w): centre = e / scale * anchor size + anchor centre,
 *    half size = 0.5 * exp(e / scale) * anchor size, in double precision as TFLM,
 *    then the corners (ymin, xmin, ymax, xmax) in float.
 * 2. Non-maximum suppression of one score column: the scores >= the threshold,
 *    ordered by decreasing score (ties: the lower anchor first, TFLM's stable
 *    sort), each kept box suppressing the later ones whose IoU exceeds the
 *    threshold, at most `limit` kept.
 * 3. Fast (class-agnostic) NMS on each anchor's best class score, the kept
 *    anchors' top max_classes_per_detection classes written out; or regular
 *    NMS per class, the best max_detections of all classes kept (TFLM's partial
 *    sort: decreasing score, ties by position).
 *
 * Outputs: boxes [max_detections * classes_per_detection][4], classes and
 * scores [same], the count [1]. Rows past the count are zero (TFLM's regular
 * path writes zeros; its fast path leaves them as they were). A box with
 * ymin >= ymax or xmin >= xmax makes the op fail, as TFLM's ValidateBoxes.
 */
#include <math.h>

#include "mcu_compiler.h"
#include "mcu_kernels.h"

/* The decoding and the IoU round each operation as TFLM's C++ does: no fused multiply-add
 * (gcc's GNU C modes contract across statements on an FPU that has one, Cortex-M7's). */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif
#if MCU_GCC
#define NO_FMA __attribute__((optimize("fp-contract=off")))
#else
#define NO_FMA
#endif

/* The order both of TFLM's sorts give: decreasing value, the lower index first on a tie. */
MCU_INLINE int32_t goes_before(const float *values, int32_t a, int32_t b)
{
    return values[a] > values[b] || (values[a] == values[b] && a < b);
}

/* The scratch, in 4-byte words: decoded boxes, one score column, the kept scores and
 * anchors, their order and the merge buffer, the active flags, the selected anchors, and
 * regular NMS's candidates (indices, scores, order) and their sorted copies. */
static int32_t candidates(const mcu_detection_params *p)
{
    return p->max_detections + p->num_boxes;
}

int32_t mcu_detection_postprocess_get_buffer_size(const mcu_detection_params *p)
{
    const int32_t n = p->num_boxes;
    return (4 * n + 7 * n + 3 * candidates(p) + 2 * p->max_detections) * (int32_t)sizeof(int32_t);
}

/* Stable merge sort of idx[0..n) by goes_before (bottom-up; tmp holds n entries). */
static void sort_decreasing(const float *values, int32_t *idx, int32_t *tmp, int32_t n)
{
    int32_t width, lo, k;
    for (width = 1; width < n; width *= 2) {
        for (lo = 0; lo < n; lo += 2 * width) {
            const int32_t mid = lo + width < n ? lo + width : n;
            const int32_t hi = lo + 2 * width < n ? lo + 2 * width : n;
            int32_t i = lo, j = mid;
            for (k = lo; k < hi; ++k) {
                if (i < mid && (j >= hi || !goes_before(values, idx[j], idx[i]))) {
                    tmp[k] = idx[i++];
                } else {
                    tmp[k] = idx[j++];
                }
            }
        }
        for (k = 0; k < n; ++k) {
            idx[k] = tmp[k];
        }
    }
}

/* order[0..k) = the first k of 0..n-1 in goes_before order (selection: k is small). */
static void top_k(const float *values, int32_t n, int32_t k, int32_t *order)
{
    int32_t r, j;
    for (j = 0; j < n; ++j) {
        order[j] = j;
    }
    for (r = 0; r < k; ++r) {
        int32_t best = r;
        for (j = r + 1; j < n; ++j) {
            if (goes_before(values, order[j], order[best])) {
                best = j;
            }
        }
        j = order[r];
        order[r] = order[best];
        order[best] = j;
    }
}

static float max_f(float a, float b)
{
    return a < b ? b : a; /* std::max: the first unless the second is larger */
}

static float min_f(float a, float b)
{
    return b < a ? b : a;
}

NO_FMA static float iou(const float *boxes, int32_t i, int32_t j)
{
    const float *a = boxes + 4 * i, *b = boxes + 4 * j;
    const float area_a = (a[2] - a[0]) * (a[3] - a[1]);
    const float area_b = (b[2] - b[0]) * (b[3] - b[1]);
    float inter;
    if (area_a <= 0.0f || area_b <= 0.0f) {
        return 0.0f;
    }
    inter = max_f(min_f(a[2], b[2]) - max_f(a[0], b[0]), 0.0f) *
            max_f(min_f(a[3], b[3]) - max_f(a[1], b[1]), 0.0f);
    return inter / (area_a + area_b - inter);
}

typedef struct {
    float *decoded, *column, *keep_scores;
    int32_t *keep_idx, *order, *merge, *active, *selected;
    int32_t *cand_idx, *cand_order, *sorted_idx;
    float *cand_scores, *sorted_scores;
} scratch_t;

static void carve(const mcu_detection_params *p, void *buf, scratch_t *s)
{
    int32_t *w = (int32_t *)buf;
    const int32_t n = p->num_boxes, c = candidates(p);
    s->decoded = (float *)(void *)w;
    w += 4 * n;
    s->column = (float *)(void *)w;
    w += n;
    s->keep_scores = (float *)(void *)w;
    w += n;
    s->keep_idx = w;
    w += n;
    s->order = w;
    w += n;
    s->merge = w;
    w += n;
    s->active = w;
    w += n;
    s->selected = w;
    w += n;
    s->cand_idx = w;
    w += c;
    s->cand_scores = (float *)(void *)w;
    w += c;
    s->cand_order = w;
    w += c;
    s->sorted_idx = w;
    w += p->max_detections;
    s->sorted_scores = (float *)(void *)w;
}

NO_FMA static void decode(const mcu_detection_params *p, const float *enc, const float *anchors, float *boxes)
{
    int32_t i;
    for (i = 0; i < p->num_boxes; ++i) {
        const float *e = enc + (size_t)i * (size_t)p->box_stride;
        const float *a = anchors + 4 * (size_t)i;
        const double yc = (double)e[0] / (double)p->y_scale * (double)a[2] + (double)a[0];
        const double xc = (double)e[1] / (double)p->x_scale * (double)a[3] + (double)a[1];
        const double hh = 0.5 * exp((double)e[2] / (double)p->h_scale) * (double)a[2];
        const double hw = 0.5 * exp((double)e[3] / (double)p->w_scale) * (double)a[3];
        const float ycenter = (float)yc, xcenter = (float)xc, half_h = (float)hh, half_w = (float)hw;
        float *b = boxes + 4 * (size_t)i;
        b[0] = ycenter - half_h;
        b[1] = xcenter - half_w;
        b[2] = ycenter + half_h;
        b[3] = xcenter + half_w;
    }
}

static int32_t boxes_valid(const float *boxes, int32_t n)
{
    int32_t i;
    for (i = 0; i < n; ++i) {
        if (boxes[4 * i] >= boxes[4 * i + 2] || boxes[4 * i + 1] >= boxes[4 * i + 3]) {
            return 0;
        }
    }
    return 1;
}

/* NMS of one score column: the selected anchors, best first; returns how many. */
static int32_t nms_single(const mcu_detection_params *p, const scratch_t *s, const float *scores, int32_t limit)
{
    int32_t i, j, kept = 0, selected = 0, active;
    for (i = 0; i < p->num_boxes; ++i) {
        if (scores[i] >= p->score_threshold) {
            s->keep_scores[kept] = scores[i];
            s->keep_idx[kept] = i;
            s->order[kept] = kept;
            ++kept;
        }
    }
    sort_decreasing(s->keep_scores, s->order, s->merge, kept);
    if (limit > kept) {
        limit = kept;
    }
    for (i = 0; i < kept; ++i) {
        s->active[i] = 1;
    }
    active = kept;
    for (i = 0; i < kept; ++i) {
        int32_t box;
        if (active == 0 || selected >= limit) {
            break;
        }
        if (!s->active[i]) {
            continue;
        }
        box = s->keep_idx[s->order[i]];
        s->selected[selected++] = box;
        s->active[i] = 0;
        --active;
        for (j = i + 1; j < kept; ++j) {
            if (s->active[j] && iou(s->decoded, box, s->keep_idx[s->order[j]]) > p->iou_threshold) {
                s->active[j] = 0;
                --active;
            }
        }
    }
    return selected;
}

static void write_row(const scratch_t *s, int32_t row, int32_t anchor, float cls, float score,
                      float *boxes, float *classes, float *scores_out)
{
    int32_t k;
    for (k = 0; k < 4; ++k) {
        boxes[4 * row + k] = s->decoded[4 * anchor + k];
    }
    classes[row] = cls;
    scores_out[row] = score;
}

static int32_t fast_nms(const mcu_detection_params *p, const scratch_t *s, const float *scores,
                        float *boxes, float *classes, float *scores_out)
{
    const int32_t cb = p->num_classes_with_background;
    const int32_t offset = cb - p->num_classes;
    const int32_t per_anchor = p->max_classes_per_detection < p->num_classes ? p->max_classes_per_detection
                                                                               : p->num_classes;
    int32_t i, row, col, j, count = 0;
    for (row = 0; row < p->num_boxes; ++row) {
        const float *v = scores + (size_t)row * (size_t)cb + offset;
        float best = v[0];
        for (j = 1; j < p->num_classes; ++j) {
            best = v[j] > best ? v[j] : best;
        }
        s->column[row] = best;
    }
    const int32_t selected = nms_single(p, s, s->column, p->max_detections);
    for (i = 0; i < selected; ++i) {
        const int32_t anchor = s->selected[i];
        const float *v = scores + (size_t)anchor * (size_t)cb + offset;
        int32_t previous = -1;
        for (col = 0; col < per_anchor; ++col) { /* the next class in goes_before order */
            int32_t pick = -1;
            for (j = 0; j < p->num_classes; ++j) {
                if ((previous < 0 || goes_before(v, previous, j)) && (pick < 0 || goes_before(v, j, pick))) {
                    pick = j;
                }
            }
            write_row(s, count++, anchor, (float)pick, v[pick], boxes, classes, scores_out);
            previous = pick;
        }
    }
    return count;
}

static int32_t regular_nms(const mcu_detection_params *p, const scratch_t *s, const float *scores,
                           float *boxes, float *classes, float *scores_out)
{
    const int32_t cb = p->num_classes_with_background;
    const int32_t offset = cb - p->num_classes;
    int32_t col, row, i, kept = 0;
    for (col = 0; col < p->num_classes; ++col) {
        int32_t n = kept, selected, k;
        for (row = 0; row < p->num_boxes; ++row) {
            s->column[row] = scores[(size_t)row * (size_t)cb + (size_t)(col + offset)];
        }
        selected = nms_single(p, s, s->column, p->detections_per_class);
        for (i = 0; i < selected; ++i) {
            s->cand_idx[n] = s->selected[i] * cb + col + offset;
            s->cand_scores[n] = s->column[s->selected[i]];
            ++n;
        }
        k = n < p->max_detections ? n : p->max_detections;
        top_k(s->cand_scores, n, k, s->cand_order);
        for (i = 0; i < k; ++i) {
            s->sorted_idx[i] = s->cand_idx[s->cand_order[i]];
            s->sorted_scores[i] = s->cand_scores[s->cand_order[i]];
        }
        for (i = 0; i < k; ++i) {
            s->cand_idx[i] = s->sorted_idx[i];
            s->cand_scores[i] = s->sorted_scores[i];
        }
        kept = k;
    }
    for (i = 0; i < kept; ++i) {
        const int32_t anchor = s->cand_idx[i] / cb;
        write_row(s, i, anchor, (float)(s->cand_idx[i] - anchor * cb - offset), s->cand_scores[i], boxes,
                  classes, scores_out);
    }
    return kept;
}

mcu_status mcu_detection_postprocess_f32(const mcu_context *ctx, const mcu_detection_params *p,
                                         const float *box_encodings, const float *class_scores,
                                         const float *anchors, float *detection_boxes,
                                         float *detection_classes, float *detection_scores,
                                         float *num_detections)
{
    scratch_t s;
    int32_t count, i;
    const int32_t rows = p->max_detections * p->max_classes_per_detection;
    if (ctx == NULL || ctx->buf == NULL || ctx->size < mcu_detection_postprocess_get_buffer_size(p) ||
        p->num_boxes <= 0 || p->box_stride < 4 || p->num_classes <= 0 ||
        p->num_classes_with_background - p->num_classes > 1 ||
        p->num_classes_with_background < p->num_classes || p->max_detections < 0 ||
        (p->use_regular_nms ? p->detections_per_class <= 0 : p->max_classes_per_detection <= 0)) {
        return MCU_ERROR_ARGUMENT;
    }
    carve(p, ctx->buf, &s);
    decode(p, box_encodings, anchors, s.decoded);
    if (!boxes_valid(s.decoded, p->num_boxes)) {
        return MCU_ERROR_ARGUMENT;
    }
    if (p->use_regular_nms) {
        count = regular_nms(p, &s, class_scores, detection_boxes, detection_classes, detection_scores);
    } else {
        count = fast_nms(p, &s, class_scores, detection_boxes, detection_classes, detection_scores);
    }
    for (i = count; i < rows; ++i) {
        detection_boxes[4 * i] = detection_boxes[4 * i + 1] = 0.0f;
        detection_boxes[4 * i + 2] = detection_boxes[4 * i + 3] = 0.0f;
        detection_classes[i] = detection_scores[i] = 0.0f;
    }
    num_detections[0] = (float)count;
    return MCU_OK;
}
