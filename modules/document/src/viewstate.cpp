#include "headlens/document/viewstate.h"

#include "headlens/document/changeevent.h"
#include "headlens/document/projectdocument.h"

#include <QJsonValue>

#include <algorithm>
#include <cmath>

namespace HeadLens {

namespace {

const char *kTraceKey = "trace";
const char *kSiteKey = "site";
const char *kColourKey = "colour";
const char *kLayerKey = "layer";
const char *kPosKey = "pos";
const char *kHeadKey = "head";
const char *kThresholdKey = "threshold";
const char *kFollowKey = "follow";

} // namespace

ViewState::ViewState(ProjectDocument *document) : QObject(document), m_document(document)
{
    const QStringList names = document->traceNames();
    if (!names.isEmpty()) m_trace = names.first();
    connect(document, &ProjectDocument::changed, this, &ViewState::documentChanged);
}

const char *ViewState::colourName(Colour colour)
{
    return colour == Colour::Entropy    ? "entropy"
           : colour == Colour::Patching ? "patching"
                                        : "probability";
}

ViewState::Shape ViewState::shape(const QString &trace) const
{
    if (trace.isEmpty() || !m_document->hasTrace(trace)) return {};
    try {
        const auto t = m_document->trace(trace);
        return {t->config.nLayers, int(t->nTokens()), t->config.nHeads};
    } catch (const std::exception &) {
        return {}; // the views say what is wrong with it
    }
}

void ViewState::emitChanged(Aspects what)
{
    if (what) Q_EMIT changed(what);
}

void ViewState::setTrace(const QString &name)
{
    const QString trace = m_document->hasTrace(name) ? name : QString();
    if (trace == m_trace) return;
    m_trace = trace;
    Aspects what = TraceAspect;
    const Shape s = shape(trace);
    if (hasBlock() && (m_layer >= s.layers || m_pos >= s.tokens)) {
        m_layer = m_pos = -1;
        what |= BlockAspect;
    }
    if (m_head >= s.heads && m_head >= 0) {
        m_head = -1;
        what |= HeadAspect;
    }
    emitChanged(what);
}

void ViewState::setSite(Site site)
{
    change(m_site, site, SiteAspect);
}

void ViewState::setColour(Colour colour)
{
    change(m_colour, colour, ColourAspect);
}

void ViewState::setBlock(int layer, int pos)
{
    if (layer < 0 || pos < 0) layer = pos = -1;
    if (layer == m_layer && pos == m_pos) return;
    m_layer = layer;
    m_pos = pos;
    emitChanged(BlockAspect);
}

void ViewState::setHead(int head)
{
    change(m_head, std::max(head, -1), HeadAspect);
}

void ViewState::setThreshold(double threshold)
{
    if (!std::isfinite(threshold)) return;
    change(m_threshold, std::clamp(threshold, 0.0, 1.0), ThresholdAspect);
}

void ViewState::setFollowToken(int id)
{
    change(m_followToken, std::max(id, -1), FollowAspect);
}

QJsonObject ViewState::toJson() const
{
    QJsonObject o{{kSiteKey, QString::fromLatin1(siteName(m_site))},
                  {kColourKey, QString::fromLatin1(colourName(m_colour))},
                  {kHeadKey, m_head},
                  {kThresholdKey, m_threshold}};
    if (!m_trace.isEmpty()) o.insert(kTraceKey, m_trace);
    if (hasBlock()) {
        o.insert(kLayerKey, m_layer);
        o.insert(kPosKey, m_pos);
    }
    if (m_followToken >= 0) o.insert(kFollowKey, m_followToken);
    return o;
}

void ViewState::apply(const QJsonObject &settings)
{
    // Settings come from a file: a value of the wrong type or out of range keeps the current one.
    Aspects what;
    const QString trace = settings.value(kTraceKey).toString();
    if (!trace.isEmpty() && trace != m_trace && m_document->hasTrace(trace)) {
        m_trace = trace;
        what |= TraceAspect;
    }
    if (const auto site = siteFromName(settings.value(kSiteKey).toString().toStdString());
        site && *site != m_site) {
        m_site = *site;
        what |= SiteAspect;
    }
    const QString colour = settings.value(kColourKey).toString();
    const Colour c = colour == QLatin1String("entropy")    ? Colour::Entropy
                     : colour == QLatin1String("patching") ? Colour::Patching
                                                           : Colour::Probability;
    if (!colour.isEmpty() && c != m_colour) {
        m_colour = c;
        what |= ColourAspect;
    }
    const Shape s = shape(m_trace);
    const int layer = settings.value(kLayerKey).toInt(-1), pos = settings.value(kPosKey).toInt(-1);
    if (layer >= 0 && pos >= 0 && layer < s.layers && pos < s.tokens &&
        (layer != m_layer || pos != m_pos)) {
        m_layer = layer;
        m_pos = pos;
        what |= BlockAspect;
    }
    if (settings.contains(kHeadKey)) {
        const int head = settings.value(kHeadKey).toInt(-1);
        if (head >= -1 && (s.heads == 0 || head < s.heads) && head != m_head) {
            m_head = head;
            what |= HeadAspect;
        }
    }
    const double threshold = settings.value(kThresholdKey).toDouble(m_threshold);
    if (std::isfinite(threshold) && threshold >= 0 && threshold <= 1 && threshold != m_threshold) {
        m_threshold = threshold;
        what |= ThresholdAspect;
    }
    if (settings.contains(kFollowKey)) {
        const int follow = settings.value(kFollowKey).toInt(-1);
        if (follow >= -1 && follow != m_followToken) {
            m_followToken = follow;
            what |= FollowAspect;
        }
    }
    emitChanged(what);
}

void ViewState::documentChanged(const ChangeEvent &event)
{
    switch (event.type) {
    case ChangeEvent::Type::TraceAdded:
        // A new trace (made, imported, or back by undo) is what the user wants to see.
        setTrace(event.trace);
        break;
    case ChangeEvent::Type::TraceRemoved:
        if (event.trace == m_trace) {
            const QStringList names = m_document->traceNames();
            m_trace.clear(); // so that setTrace sees a change even to an equal name
            setTrace(names.isEmpty() ? QString()
                                     : names.value(std::min(event.index, int(names.size()) - 1)));
            if (m_trace.isEmpty()) {
                m_layer = m_pos = -1;
                emitChanged(TraceAspect | BlockAspect);
            }
        }
        break;
    case ChangeEvent::Type::TraceRenamed:
        if (event.oldName == m_trace) {
            m_trace = event.trace;
            emitChanged(TraceAspect);
        }
        break;
    default:
        break;
    }
}

} // namespace HeadLens
