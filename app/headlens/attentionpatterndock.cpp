#include "attentionpatterndock.h"

#include "headlens/document/projectdocument.h"
#include "headlens/document/viewstate.h"
#include "headlens/ui/attentionpatternview.h"

namespace HeadLens {

namespace {

// A whole layer is read to draw it: at most this many values ([H, T, T], 64 MB of floats).
constexpr int64_t kMaxLayerValues = int64_t(16) << 20;

} // namespace

AttentionPatternDock::AttentionPatternDock(QWidget *parent)
    : DocumentDock(parent), m_view(new AttentionPatternView)
{
    setObjectName("AttentionPatternDock");
    setWidget(m_view);
    connect(m_view, &AttentionPatternView::querySelected, this, [this](int pos) {
        ViewState *v = view();
        if (v && v->hasBlock()) v->setBlock(v->layer(), pos);
    });
    retranslateUi();
}

void AttentionPatternDock::retranslateUi()
{
    setWindowTitle(tr("Attention Pattern"));
}

void AttentionPatternDock::showEvent(QShowEvent *event)
{
    DocumentDock::showEvent(event);
    if (m_stale) refresh();
}

void AttentionPatternDock::refresh()
{
    // A layer of a long trace is tens of MB to read: only while the dock can be seen.
    m_stale = !isVisible();
    if (m_stale) return;
    const ViewState *v = view();
    if (!v || v->trace().isEmpty() || !v->hasBlock()) {
        m_view->clear();
        return;
    }
    try {
        const auto t = document()->trace(v->trace());
        const int64_t H = t->config.nHeads, T = t->nTokens();
        if (H * T * T > kMaxLayerValues) {
            m_view->clear(tr("A layer of this trace holds %1 million attention weights, too many "
                             "to draw; the block view shows the selected position's row.")
                              .arg(double(H * T * T) / 1e6, 0, 'f', 0));
            return;
        }
        const auto pattern = document()->attention(v->trace(), v->layer());
        if (!pattern) {
            m_view->clear(tr("This trace stores no attention patterns (traced with --attention "
                             "none)."));
            return;
        }
        std::vector<std::string> tokens;
        for (const TokenInfo &tok : t->tokens)
            tokens.push_back(tok.text);
        m_view->setPattern(v->layer(), v->head(), *pattern, tokens);
        m_view->setSelectedQuery(v->pos());
    } catch (const std::exception &e) {
        m_view->clear(QString::fromStdString(e.what()));
    }
}

void AttentionPatternDock::viewChanged(int aspects)
{
    const ViewState *v = view();
    if (!v) return;
    const bool sameLayer = v->hasBlock() && v->layer() == m_view->layer();
    if ((aspects & (ViewState::TraceAspect | ViewState::HeadAspect)) ||
        ((aspects & ViewState::BlockAspect) && !sameLayer))
        refresh();
    else if (aspects & ViewState::BlockAspect)
        m_view->setSelectedQuery(v->pos());
}

} // namespace HeadLens
