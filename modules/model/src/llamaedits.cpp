// Vector edits of Model::Impl: one site, layer and position of the forward pass replaced by a
// function of its vector (subtract the lens's top token, inject another).

#include "llamaimpl.h"

namespace HeadLens {

void Model::Impl::applyEdit(const EditHook *edit, Site site, int layer, int64_t past, at::Tensor &t)
{
    if (!edit || edit->site != site || edit->layer != layer) return;
    const int64_t row = edit->pos - past;
    if (row < 0 || row >= t.size(0)) return;
    at::Tensor copy = t.clone();
    copy.select(0, row).copy_(edit->f(t.select(0, row)));
    t = copy;
}

int32_t Model::Impl::lensTop1(const at::Tensor &v, Site site, int layer, const LensOptions &lo)
{
    at::Tensor n = lensNorm(translate(v.unsqueeze(0), site, layer, lo), lo.norm);
    const double d = siteDepth(site, layer, cfg.nLayers);
    return int32_t(decoderLogits(n, lo.decoder, {d}).argmax(-1).item<int64_t>());
}

Model::Impl::LensReading Model::Impl::tokenReading(int32_t id, Site site, int layer,
                                                   const LensOptions &lo) const
{
    at::Tensor row =
        decoderRows(lo.decoder, siteDepth(site, layer, cfg.nLayers), id, 1, at::kDouble)[0];
    if (lo.norm == LensNorm::Full) row = row * finalNorm.to(at::kDouble);
    return readingOf(row, site, layer, lo);
}

EditHook Model::Impl::makeEdit(const VectorEdit &e, const LensOptions &lo)
{
    if (e.layer < 0 || e.layer >= cfg.nLayers)
        throw InputError("edit layer " + std::to_string(e.layer) + " is outside [0, " +
                         std::to_string(cfg.nLayers) + ")");
    if (e.kind == VectorEdit::Kind::Inject && (e.injectId < 0 || e.injectId >= cfg.vocabSize))
        throw InputError("token id " + std::to_string(e.injectId) +
                         " to inject is outside the vocabulary");
    if (e.kind == VectorEdit::Kind::Subtract && e.subtractCount < 1)
        throw InputError("subtract at least one token");
    EditHook h;
    h.site = e.site;
    h.layer = e.layer;
    h.pos = e.pos;
    const VectorEdit edit = e;
    h.f = [this, edit, lo](const at::Tensor &row) -> at::Tensor {
        at::Tensor v = row.to(at::kDouble);
        switch (edit.kind) {
        case VectorEdit::Kind::Unchanged:
            return row;
        case VectorEdit::Kind::Subtract:
            for (int i = 0; i < edit.subtractCount; ++i) {
                const int32_t top = lensTop1(v.to(ct), edit.site, edit.layer, lo);
                const LensReading r = tokenReading(top, edit.site, edit.layer, lo);
                const at::Tensor &u = r.direction;
                v = v - (((v * u).sum() + r.offset) / (u * u).sum().clamp_min(1e-300)) * u;
            }
            break;
        case VectorEdit::Kind::Inject: {
            const double d = siteDepth(edit.site, edit.layer, cfg.nLayers);
            const int32_t top = lensTop1(row, edit.site, edit.layer, lo);
            // The directions the lens reads the two tokens' rows along (the rows themselves
            // for the logit lenses), so that the top token's share moves to the injected one.
            at::Tensor c = readingOf(decoderRows(lo.decoder, d, top, 1, at::kDouble)[0], edit.site,
                                     edit.layer, lo)
                               .direction;
            at::Tensor e2 = readingOf(decoderRows(lo.decoder, d, edit.injectId, 1, at::kDouble)[0],
                                      edit.site, edit.layer, lo)
                                .direction;
            c = c / c.norm().clamp_min(1e-300);
            e2 = e2 / e2.norm().clamp_min(1e-300);
            v = v + (v * c).sum() * (e2 - c);
            break;
        }
        }
        return v.to(row.scalar_type());
    };
    return h;
}

} // namespace HeadLens
