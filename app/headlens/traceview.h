#pragma once
// The centre of the window: the view toolbar (site, lens, colour, attention head, line
// threshold, zoom) over the block view of the current project's trace. It shows what the
// project's ViewState says and sends the user's choices back to it; nothing here is undoable.

#include <QPointer>
#include <QVector>
#include <QWidget>

class QAction;
class QBoxLayout;
class QComboBox;
class QLabel;
class QSlider;
class QToolBar;

namespace HeadLens {

class BlockView;
class EngineClient;
class LensSelector;
class ProjectDocument;
class ViewState;
struct Trace;

class TraceView : public QWidget {
    Q_OBJECT
public:
    explicit TraceView(EngineClient *engine, QWidget *parent = nullptr);

    void setDocument(ProjectDocument *document);
    ProjectDocument *document() const { return m_document; }

    // Selects a block and scrolls it into view.
    void selectBlock(int layer, int pos);
    // Outlines blocks (an entropy bin's), selecting the first.
    void showBlocks(const QVector<QPair<int, int>> &blocks);

    BlockView *blockView() const { return m_blockView; }
    QToolBar *toolBar() const { return m_bar; }
    QComboBox *siteBox() const { return m_siteBox; }
    QComboBox *colourBox() const { return m_colourBox; }
    QComboBox *headBox() const { return m_headBox; }
    QSlider *thresholdSlider() const { return m_threshold; }
    LensSelector *lensSelector() const { return m_lensSelector; }
    // For the status bar: the lens of the shown trace.
    QLabel *lensInfo() const { return m_lensInfo; }
    QList<QAction *> zoomActions() const;

    // How many times the lens of a site was put into the block view (a head pick or a
    // threshold step must not do it).
    int lensLoads() const { return m_lensLoads; }

public Q_SLOTS:
    void retranslateUi();

Q_SIGNALS:
    // A sentence about the selection, for the status bar.
    void selectionText(const QString &text);
    void error(const QString &text);
    void status(const QString &text, int timeoutMs);
    // The lens selector made or found a trace to show (maybe in another project).
    void traceChosen(HeadLens::ProjectDocument *document, const QString &name);

protected:
    void changeEvent(QEvent *event) override;
    void resizeEvent(QResizeEvent *event) override;

private:
    void viewChanged(int aspects);
    void showTrace();
    void showLens();
    void showColour();
    void markEdit(const Trace &trace);
    void showAttention();
    void showSelection();
    void fillHeads(int heads);
    void syncControls();
    void clear();
    ViewState *view() const;

    QPointer<ProjectDocument> m_document;
    int m_lensLoads = 0;

    QToolBar *m_bar;
    QToolBar *m_bar2;
    QBoxLayout *m_bars;
    BlockView *m_blockView;
    QLabel *m_siteLabel, *m_colourLabel, *m_headLabel, *m_thresholdLabel, *m_thresholdValue,
        *m_lensInfo;
    QComboBox *m_siteBox;
    QComboBox *m_colourBox;
    QComboBox *m_headBox;
    QSlider *m_threshold;
    LensSelector *m_lensSelector;
    QAction *m_zoomInAction, *m_zoomOutAction, *m_zoomFitAction, *m_zoomResetAction;
};

} // namespace HeadLens
