// Screenshots of every view on a real project, for people to look at (not a pass/fail check
// of pixels): each widget is laid out offscreen at a realistic size, fed what the workbench
// would feed it (read here with ProjectReader), grabbed and saved as PNG.
//
// The project: $HEADLENS_UI_PROJECT, else /tmp/ui-shots.hlproj, else the committed v1 fixture.
// The output folder: $HEADLENS_UI_SHOTS_DIR, else /tmp/ui-shots.
#include "headlens/project/headrolesstore.h"
#include "headlens/project/project.h"
#include "headlens/trace/error.h"
#include "headlens/ui/blockview.h"
#include "headlens/ui/comparisonpanel.h"
#include "headlens/ui/entropypanel.h"
#include "headlens/ui/export.h"
#include "headlens/ui/headcontributionpanel.h"
#include "headlens/ui/headrolespanel.h"
#include "headlens/ui/headsimilaritypanel.h"
#include "headlens/ui/inspectorpanel.h"
#include "uitestdata.h"

#include <cmath>
#include <numeric>

#include <QDir>
#include <QFileInfo>
#include <QTableView>
#include <QtTest>

using namespace HeadLens;

class TestUiShots : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase();
    void blockView();
    void blockViewLarge();
    void inspector();
    void headContributions();
    void entropy();
    void comparison();
    void headSimilarity();
    void headRoles();

private:
    void save(QWidget &w, const QString &name);
    QString m_project;
    QString m_outDir;
    std::unique_ptr<ProjectReader> m_reader;
    std::string m_trace, m_trace2;
};

void TestUiShots::initTestCase()
{
    m_project = qEnvironmentVariable("HEADLENS_UI_PROJECT");
    if (m_project.isEmpty() && QFileInfo::exists(QStringLiteral("/tmp/ui-shots.hlproj")))
        m_project = QStringLiteral("/tmp/ui-shots.hlproj");
    if (m_project.isEmpty())
        m_project = QStringLiteral(HEADLENS_SOURCE_DIR "/tests/project/data/v1.hlproj");
    if (!QFileInfo::exists(m_project)) QSKIP("no project to take screenshots of");
    m_outDir = qEnvironmentVariable("HEADLENS_UI_SHOTS_DIR", QStringLiteral("/tmp/ui-shots"));
    QVERIFY(QDir().mkpath(m_outDir));
    m_reader = std::make_unique<ProjectReader>(m_project.toStdString());
    const auto &traces = m_reader->info().traces;
    QVERIFY(!traces.empty());
    m_trace = traces.front().name;
    m_trace2 = traces.size() > 1 ? traces[1].name : traces.front().name;
    qInfo("screenshots of %s (traces %s, %s) into %s", qPrintable(m_project), m_trace.c_str(),
          m_trace2.c_str(), qPrintable(m_outDir));
}

void TestUiShots::save(QWidget &w, const QString &name)
{
    // Charts update their items on the next turn of the event loop.
    QCoreApplication::processEvents();
    const QString path = m_outDir + QLatin1Char('/') + name + QStringLiteral(".png");
    QVERIFY(w.grab().save(path));
}

void TestUiShots::blockView()
{
    const Trace t = m_reader->readTrace(m_trace);
    const LensSite post = m_reader->readLens(m_trace, Site::ResidPost);
    BlockView view;
    view.resize(1200, 520);
    view.setTrace(t);
    QVERIFY(view.setLens(post));
    const int layer = std::max(0, t.config.nLayers - 2), pos = std::min(t.nTokens() - 1, 12);
    view.setSelection(layer, pos);
    if (t.attentionStore != StoreType::None)
        view.setAttention(layer, m_reader->readAttention(m_trace, layer));
    view.setAttentionThreshold(0.15);
    view.show();
    save(view, QStringLiteral("blockview"));
    view.setColourMode(BlockView::ColourMode::Entropy);
    save(view, QStringLiteral("blockview-entropy"));
    view.setColourMode(BlockView::ColourMode::Probability);
    view.zoomToFit();
    save(view, QStringLiteral("blockview-fit"));
    view.setZoom(0.5, 0.6);
    save(view, QStringLiteral("blockview-half"));
    QVERIFY(exportSvg(&view, m_outDir + QStringLiteral("/blockview-export.svg"), QSize(1600, 500)));

    // The blocks of one entropy bin outlined, as a click on the histogram's bar shows them:
    // the bin holding about a tenth of the blocks, or else the fullest.
    EntropyPanel panel;
    panel.setTrace(t, post);
    const std::vector<int> counts = panel.binCounts();
    const int total = std::accumulate(counts.begin(), counts.end(), 0);
    int bin = -1;
    for (int b = 0; b < int(counts.size()); ++b)
        if (counts[size_t(b)] > 0 && (bin < 0 || std::abs(counts[size_t(b)] - total / 10) <
                                                     std::abs(counts[size_t(bin)] - total / 10)))
            bin = b;
    QVERIFY(bin >= 0);
    view.resetZoom();
    view.showBlocks(panel.blocksInBin(bin));
    QVERIFY(view.highlightCount() > 0);
    save(view, QStringLiteral("blockview-bin"));
    view.zoomToFit();
    save(view, QStringLiteral("blockview-bin-fit"));
}

void TestUiShots::blockViewLarge()
{
    // The size the benchmark uses, 60 layers x 2,000 tokens (synthetic numbers).
    const Trace t = TestData::makeTrace(60, 2000, 2, 3, 5000, false);
    BlockView view;
    view.resize(1400, 700);
    view.setTrace(t);
    QVERIFY(view.setLens(t.lens[size_t(Site::ResidPost)]));
    view.setSelection(40, 1500);
    view.show();
    view.zoomToFit();
    save(view, QStringLiteral("blockview-60x2000-fit"));
    view.setZoom(0.12, 0.12);
    view.ensureVisible(40, 1500);
    save(view, QStringLiteral("blockview-60x2000-zoom012"));
    // Outlined blocks at both zooms: the rings, and the dense image.
    QVector<QPair<int, int>> outlined;
    for (int l = 30; l < 50; ++l)
        for (int p = 1400 + l % 5; p < 1600; p += 5)
            outlined.append(qMakePair(l, p));
    view.setHighlightedBlocks(outlined);
    save(view, QStringLiteral("blockview-60x2000-zoom012-outlined"));
    view.zoomToFit();
    save(view, QStringLiteral("blockview-60x2000-fit-outlined"));
}

void TestUiShots::inspector()
{
    const Trace t = m_reader->readTrace(m_trace);
    const LensSite post = m_reader->readLens(m_trace, Site::ResidPost);
    InspectorPanel panel;
    panel.resize(380, 700);
    panel.setTrace(t);
    panel.setLens(Site::ResidPost, post);
    const int layer = std::max(0, t.config.nLayers - 2), pos = std::min(t.nTokens() - 1, 12);
    panel.setSelection(layer, pos);
    // Iterative decoding comes from the engine; for the picture, steps shaped like its answer.
    std::vector<DecodeStepRow> steps;
    double norm = 14.0;
    for (const auto &e : panel.topK()) {
        steps.push_back({e.id, e.text, e.prob, norm});
        norm *= 0.72;
        if (steps.size() == 5) break;
    }
    panel.setDecomposition(steps);
    panel.show();
    panel.showInjectForm();
    save(panel, QStringLiteral("inspector"));
}

void TestUiShots::headContributions()
{
    const Trace t = m_reader->readTrace(m_trace);
    HeadContributionPanel panel;
    panel.resize(520, 640);
    panel.setTrace(t);
    const int layer = std::max(0, t.config.nLayers - 2), pos = std::min(t.nTokens() - 1, 12);
    panel.setSelection(layer, pos);
    // The sum check needs ||attn_out||; a project may store the residuals of other sites only.
    if (t.residualStore != StoreType::None) {
        FloatArray a;
        try {
            a = m_reader->readResidual(m_trace, Site::AttnOut, layer); // [T, D]
        } catch (const InputError &e) {
            qInfo("no attn_out residual for the sum check: %s", e.what());
        }
        double s = 0;
        for (int64_t d = 0; d < (a.empty() ? 0 : a.dim(1)); ++d)
            s += double(a.at({pos, d})) * a.at({pos, d});
        if (!a.empty()) panel.setAttnOutNorm(std::sqrt(s));
    }
    if (const auto roles = readHeadRoles(m_project.toStdString(), m_trace))
        panel.setHeadRoles(*roles);
    panel.setSelectedHead(2);
    panel.show();
    save(panel, QStringLiteral("heads"));
    panel.setMetric(HeadContributionPanel::Metric::Cosine);
    save(panel, QStringLiteral("heads-cosine"));
    QVERIFY(exportPng(&panel, m_outDir + QStringLiteral("/heads-export.png"), QSize(900, 900)));
    QVERIFY(exportSvg(&panel, m_outDir + QStringLiteral("/heads-export.svg"), QSize(700, 800)));
}

void TestUiShots::entropy()
{
    const Trace a = m_reader->readTrace(m_trace), b = m_reader->readTrace(m_trace2);
    const LensSite la = m_reader->readLens(m_trace, Site::ResidPost),
                   lb = m_reader->readLens(m_trace2, Site::ResidPost);
    EntropyPanel panel;
    panel.resize(680, 620);
    panel.setTraces({EntropySource{&a, &la, QString()}, EntropySource{&b, &lb, QString()}});
    panel.show();
    panel.selectBin(3, 0);
    save(panel, QStringLiteral("entropy"));
    panel.setTrace(a, la);
    panel.setQuantity(EntropyPanel::Quantity::Attention);
    panel.setLayer(std::max(0, a.config.nLayers - 2));
    save(panel, QStringLiteral("entropy-attention"));
}

void TestUiShots::comparison()
{
    const Trace a = m_reader->readTrace(m_trace), b = m_reader->readTrace(m_trace2);
    const LensSite la = m_reader->readLens(m_trace, Site::ResidPost),
                   lb = m_reader->readLens(m_trace2, Site::ResidPost);
    ComparisonPanel panel;
    panel.resize(1000, 520);
    panel.setTraces(a, la, b, lb);
    panel.show();
    panel.setSelectedPair(std::min(panel.pairCount() - 1, 9), 0.8);
    save(panel, QStringLiteral("comparison"));
    QVERIFY(
        exportPng(&panel, m_outDir + QStringLiteral("/comparison-export.png"), QSize(1400, 600)));
}

void TestUiShots::headSimilarity()
{
    std::vector<HeadSimilaritySource> sources;
    for (const auto &info : m_reader->info().traces) {
        const std::string name = info.name;
        const ProjectReader *reader = m_reader.get();
        HeadSimilaritySource s;
        s.name = QString::fromStdString(name);
        s.trace = [reader, name] { return std::make_shared<const Trace>(reader->readTrace(name)); };
        s.pattern = [reader, name](int layer) -> std::shared_ptr<const FloatArray> {
            try {
                return std::make_shared<const FloatArray>(reader->readAttention(name, layer));
            } catch (const std::exception &) {
                return nullptr; // no attention stored
            }
        };
        if (name == m_trace)
            sources.insert(sources.begin(), s);
        else
            sources.push_back(s);
    }
    HeadSimilarityPanel panel;
    panel.resize(520, 600);
    panel.setTraces(sources);
    panel.setLayer(std::max(0, panel.layerCount() - 2));
    panel.setSelectedHead(1);
    panel.show();
    QTRY_VERIFY_WITH_TIMEOUT(!panel.isComputing(), 60000);
    save(panel, QStringLiteral("headsimilarity"));
    panel.setScope(HeadSimilarityPanel::Scope::Project);
    QTRY_VERIFY_WITH_TIMEOUT(!panel.isComputing(), 60000);
    save(panel, QStringLiteral("headsimilarity-project"));
    if (panel.hasContribution()) {
        panel.setKind(SimilarityKind::Contribution);
        save(panel, QStringLiteral("headsimilarity-contribution"));
    }
    QVERIFY(exportPng(&panel, m_outDir + QStringLiteral("/headsimilarity-export.png"),
                      QSize(800, 800)));
    QVERIFY(exportSvg(&panel, m_outDir + QStringLiteral("/headsimilarity-export.svg"),
                      QSize(700, 760)));
}

// The Head Roles table, sorted by the previous-token score (the project's roles, when stored).
void TestUiShots::headRoles()
{
    HeadRolesPanel panel;
    panel.resize(760, 420);
    if (const auto roles = readHeadRoles(m_project.toStdString(), m_trace)) panel.setRoles(*roles);
    panel.table()->sortByColumn(HeadRolesPanel::Previous, Qt::DescendingOrder);
    panel.show();
    save(panel, QStringLiteral("headroles"));
}

QTEST_MAIN(TestUiShots)
#include "tst_uishots.moc"
