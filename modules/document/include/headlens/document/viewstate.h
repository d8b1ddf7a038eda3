#pragma once
// What a project's views show and where the user is in it: the trace, the site the blocks
// decode, the colour mode, the selected block, the attention head, the line threshold and the
// followed token. One per ProjectDocument, beside its undo stack (as Tiled's MapDocument keeps
// its current object and selection beside the undo stack): looking around is not an edit, so
// none of this is undoable and none of it marks the project modified. It is written into the
// project's view settings when the project is saved, so a project reopens where it was left.
//
// Views listen to changed(): each reacts only to the aspects it shows, so picking a head
// repaints the attention and leaves the lens and the entropy charts alone.

#include "headlens/trace/trace.h"

#include <QJsonObject>
#include <QObject>
#include <QString>

namespace HeadLens {

class ProjectDocument;
struct ChangeEvent;

class ViewState : public QObject {
    Q_OBJECT
public:
    enum Aspect {
        TraceAspect = 0x01,     // the shown trace (the selection may have moved with it)
        SiteAspect = 0x02,      // the site the blocks decode
        ColourAspect = 0x04,    // what a block's colour shows
        BlockAspect = 0x08,     // the selected layer and position
        HeadAspect = 0x10,      // whose attention: -1 the mean of heads
        ThresholdAspect = 0x20, // the attention line threshold
        FollowAspect = 0x40,    // the followed token
    };
    Q_DECLARE_FLAGS(Aspects, Aspect)
    Q_FLAG(Aspects)

    // Patching: the blocks show the trace's activation patching map (PatchMap) at the site.
    enum class Colour { Probability, Entropy, Patching };

    explicit ViewState(ProjectDocument *document);

    ProjectDocument *document() const { return m_document; }

    QString trace() const { return m_trace; }
    Site site() const { return m_site; }
    Colour colour() const { return m_colour; }
    int layer() const { return m_layer; }
    int pos() const { return m_pos; }
    bool hasBlock() const { return m_layer >= 0 && m_pos >= 0; }
    int head() const { return m_head; }
    double threshold() const { return m_threshold; }
    int followToken() const { return m_followToken; }

    // Shows another trace. The selected block stays when the new trace has that layer and
    // position (a child trace, the same prompt under another lens), and the head when it has
    // that head; otherwise they are cleared. An unknown name shows nothing.
    void setTrace(const QString &name);
    void setSite(Site site);
    void setColour(Colour colour);
    // -1, -1 clears the selection.
    void setBlock(int layer, int pos);
    void setHead(int head);
    void setThreshold(double threshold);
    // A vocabulary id, or -1 for none.
    void setFollowToken(int id);

    // The persistent part, as stored in the project's view settings (keys "trace", "site",
    // "colour", "layer", "pos", "head", "threshold", "follow"), and back. apply() takes the
    // keys it knows from settings (missing keys keep their value) and emits what changed.
    QJsonObject toJson() const;
    void apply(const QJsonObject &settings);

    static const char *colourName(Colour colour);

Q_SIGNALS:
    void changed(HeadLens::ViewState::Aspects what);

private:
    void documentChanged(const ChangeEvent &event);
    void emitChanged(Aspects what);
    // Sets field to value and says so, unless it holds value already.
    template <typename T> void change(T &field, T value, Aspect aspect)
    {
        if (value == field) return;
        field = value;
        emitChanged(aspect);
    }
    // The layers, positions and heads of a trace (zeros when it cannot be read).
    struct Shape {
        int layers = 0, tokens = 0, heads = 0;
    };
    Shape shape(const QString &trace) const;

    ProjectDocument *m_document;
    QString m_trace;
    Site m_site = Site::ResidPost;
    Colour m_colour = Colour::Probability;
    int m_layer = -1;
    int m_pos = -1;
    int m_head = -1;
    double m_threshold = 0.1;
    int m_followToken = -1;
};

} // namespace HeadLens

Q_DECLARE_OPERATORS_FOR_FLAGS(HeadLens::ViewState::Aspects)
