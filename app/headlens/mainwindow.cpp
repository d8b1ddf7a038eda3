#include "mainwindow.h"

#include "appsettings.h"
#include "comparisondock.h"
#include "exportdialog.h"
#include "lensselector.h"
#include "messagebar.h"
#include "newtracedialog.h"
#include "projectdock.h"
#include "settingsdialog.h"

#include "headlens/document/engineclient.h"
#include "headlens/document/projectdocument.h"
#include "headlens/document/recoverymanager.h"
#include "headlens/document/tracejob.h"
#include "headlens/project/project.h"
#include "headlens/trace/version.h"
#include "headlens/ui/blockview.h"
#include "headlens/ui/comparisonpanel.h"
#include "headlens/ui/entropypanel.h"
#include "headlens/ui/export.h"
#include "headlens/ui/headcontributionpanel.h"
#include "headlens/ui/headsimilaritypanel.h"
#include "headlens/ui/inspectorpanel.h"

#include <QAction>
#include <QApplication>
#include <QCloseEvent>
#include <QCheckBox>
#include <QComboBox>
#include <QDir>
#include <QDockWidget>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonObject>
#include <QLabel>
#include <QMenuBar>
#include <QMimeData>
#include <QSettings>
#include <QSlider>
#include <QStatusBar>
#include <QStyle>
#include <QTabBar>
#include <QTimer>
#include <QToolBar>
#include <QUndoGroup>
#include <QUndoStack>
#include <QVBoxLayout>

namespace HeadLens {

namespace {

constexpr int kLayoutVersion = 2; // 2: the head similarity dock

const char *kSiteKey = "site";
const char *kColourKey = "colour";
const char *kHeadKey = "head";
const char *kThresholdKey = "threshold";

QString q(const std::string &s)
{
    return QString::fromStdString(s);
}

bool isProjectFile(const QString &path)
{
    return path.endsWith(QStringLiteral(".hlproj"), Qt::CaseInsensitive);
}

QMessageBox::StandardButton defaultAsk(QWidget *parent, const QString &title, const QString &text,
                                       QMessageBox::StandardButtons buttons,
                                       QMessageBox::StandardButton fallback)
{
    return QMessageBox::question(parent, title, text, buttons, fallback);
}

} // namespace

MainWindow::MainWindow(QWidget *parent)
    : QMainWindow(parent), m_engine(new EngineClient(this)),
      m_recovery(std::make_unique<RecoveryManager>()), m_undoGroup(new QUndoGroup(this)),
      m_ask(defaultAsk)
{
    setObjectName("MainWindow");
    setAcceptDrops(true);
    setDockOptions(QMainWindow::AnimatedDocks | QMainWindow::AllowTabbedDocks |
                   QMainWindow::AllowNestedDocks);
    setDocumentMode(true);

    // --- central: project tabs, messages, the view toolbar and the block view
    m_tabs = new QTabBar;
    m_tabs->setObjectName("ProjectTabs");
    m_tabs->setDocumentMode(true);
    m_tabs->setTabsClosable(true);
    m_tabs->setMovable(true);
    m_tabs->setExpanding(false);
    m_tabs->setElideMode(Qt::ElideMiddle);
    connect(m_tabs, &QTabBar::currentChanged, this, &MainWindow::tabChanged);
    connect(m_tabs, &QTabBar::tabCloseRequested, this, [this](int i) {
        if (i >= 0 && i < int(m_projects.size())) closeProject(m_projects[size_t(i)].document);
    });
    connect(m_tabs, &QTabBar::tabMoved, this, [this](int from, int to) {
        const Project p = m_projects[size_t(from)];
        m_projects.erase(m_projects.begin() + from);
        m_projects.insert(m_projects.begin() + to, p);
    });
    m_messageBar = new MessageBar;
    m_viewBar = new QToolBar;
    m_viewBar->setObjectName("ViewToolBar");
    m_blockView = new BlockView;
    m_blockView->setObjectName("BlockView");

    m_siteLabel = new QLabel;
    m_siteBox = new QComboBox;
    m_siteBox->setObjectName("SiteBox");
    for (Site s : allSites())
        m_siteBox->addItem(QString::fromLatin1(siteName(s)), int(s));
    m_siteBox->setCurrentIndex(int(Site::ResidPost));
    m_colourLabel = new QLabel;
    m_colourBox = new QComboBox;
    m_colourBox->setObjectName("ColourBox");
    m_colourBox->addItem(QString(), QStringLiteral("probability"));
    m_colourBox->addItem(QString(), QStringLiteral("entropy"));
    m_headLabel = new QLabel;
    m_headBox = new QComboBox;
    m_headBox->setObjectName("HeadBox");
    m_headBox->setSizeAdjustPolicy(QComboBox::AdjustToContents);
    m_thresholdLabel = new QLabel;
    m_threshold = new QSlider(Qt::Horizontal);
    m_threshold->setObjectName("ThresholdSlider");
    m_threshold->setRange(0, 100);
    m_threshold->setValue(10);
    m_threshold->setFixedWidth(120);
    m_thresholdValue = new QLabel;
    m_thresholdValue->setMinimumWidth(QFontMetrics(font()).horizontalAdvance("0.000"));
    m_lensInfo = new QLabel;
    m_lensInfo->setObjectName("LensInfo");
    // The lens norm and decoder: another choice shows or makes the trace with that lens.
    m_lensSelector = new LensSelector(m_engine, [this](const Trace &t) { return specFor(t); });
    connect(m_lensSelector, &LensSelector::traceChosen, this,
            [this](ProjectDocument *doc, const QString &name) {
                setCurrentDocument(doc);
                setCurrentTrace(name);
                updateEngineStatus();
            });
    connect(m_lensSelector, &LensSelector::status, this,
            [this](const QString &text) { statusBar()->showMessage(text, 5000); });
    connect(m_lensSelector, &LensSelector::message, this, &MainWindow::showError);

    connect(m_siteBox, &QComboBox::currentIndexChanged, this, [this] {
        if (!m_showing) viewSettingChanged(kSiteKey, siteName(currentSite()));
    });
    connect(m_colourBox, &QComboBox::currentIndexChanged, this, [this] {
        if (!m_showing) viewSettingChanged(kColourKey, m_colourBox->currentData().toString());
    });
    connect(m_headBox, &QComboBox::currentIndexChanged, this, [this] {
        if (!m_showing) viewSettingChanged(kHeadKey, m_headBox->currentData().toInt());
    });
    connect(m_threshold, &QSlider::valueChanged, this, [this](int v) {
        m_thresholdValue->setText(QString::number(v / 100.0, 'f', 2));
        if (!m_showing) viewSettingChanged(kThresholdKey, v / 100.0);
    });
    m_thresholdValue->setText(QString::number(m_threshold->value() / 100.0, 'f', 2));
    connect(m_blockView, &BlockView::blockSelected, this, &MainWindow::blockClicked);

    auto *central = new QWidget;
    auto *centralLayout = new QVBoxLayout(central);
    centralLayout->setContentsMargins(0, 0, 0, 0);
    centralLayout->setSpacing(0);
    centralLayout->addWidget(m_tabs);
    centralLayout->addWidget(m_messageBar);
    centralLayout->addWidget(m_viewBar);
    centralLayout->addWidget(m_blockView, 1);
    setCentralWidget(central);

    m_selectionStatus = new QLabel;
    m_engineStatus = new QLabel;
    statusBar()->addWidget(m_selectionStatus, 1);
    statusBar()->addPermanentWidget(m_lensInfo);
    statusBar()->addPermanentWidget(m_engineStatus);

    createActions();
    createDocks();
    createMenus();
    createToolBars();

    m_engine->setCommand(AppSettings::engineCommand());
    connect(m_engine, &EngineClient::stateChanged, this, &MainWindow::updateEngineStatus);
    connect(m_engine, &EngineClient::ready, this, &MainWindow::updateEngineStatus);
    connect(m_engine, &EngineClient::engineStopped, this, &MainWindow::engineStopped);
    m_recovery->setInterval(AppSettings::autosaveMinutes());

    retranslateUi();
    resize(1500, 950);
    m_defaultState = saveState(kLayoutVersion);
    restoreLayout();
    updateActions();
    clearViews();
    updateRecentMenu();
    updateEngineStatus();
}

MainWindow::~MainWindow()
{
    // Documents go before the recovery manager, which then removes their copies.
    for (auto &p : m_projects)
        delete p.document;
    m_projects.clear();
}

// ------------------------------------------------------------------------------ actions

void MainWindow::createActions()
{
    auto make = [this](const QKeySequence &key, auto slot) {
        auto *a = new QAction(this);
        if (!key.isEmpty()) a->setShortcut(key);
        connect(a, &QAction::triggered, this, slot);
        return a;
    };
    m_newAction = make(QKeySequence::New, [this] { newProject(); });
    m_openAction = make(QKeySequence::Open, &MainWindow::open);
    m_saveAction = make(QKeySequence::Save, &MainWindow::save);
    m_saveAsAction = make(QKeySequence::SaveAs, &MainWindow::saveAs);
    m_closeAction = make(QKeySequence::Close, &MainWindow::closeCurrent);
    m_quitAction = make(QKeySequence::Quit, [this] { close(); });
    m_quitAction->setMenuRole(QAction::QuitRole);
    m_newAction->setIcon(style()->standardIcon(QStyle::SP_FileIcon));
    m_openAction->setIcon(style()->standardIcon(QStyle::SP_DialogOpenButton));
    m_saveAction->setIcon(style()->standardIcon(QStyle::SP_DialogSaveButton));

    m_undoAction = m_undoGroup->createUndoAction(this);
    m_undoAction->setShortcut(QKeySequence::Undo);
    m_redoAction = m_undoGroup->createRedoAction(this);
    m_redoAction->setShortcut(QKeySequence::Redo);
    m_settingsAction = make(QKeySequence(tr("Ctrl+,")), &MainWindow::showSettings);
    m_settingsAction->setMenuRole(QAction::PreferencesRole);

    m_newTraceAction = make(QKeySequence(tr("Ctrl+T")), &MainWindow::newTrace);
    m_renameTraceAction = make(QKeySequence(), [this] { m_projectDock->renameCurrent(); });
    m_deleteTraceAction = make(QKeySequence(), [this] { m_projectDock->deleteCurrent(); });
    m_restartEngineAction = make(QKeySequence(), &MainWindow::restartEngine);
    m_stopEngineAction = make(QKeySequence(), [this] { m_engine->stop(); });

    m_exportSvgAction =
        make(QKeySequence(tr("Ctrl+Shift+E")), [this] { exportCurrent(ExportFormat::Svg); });
    m_exportPngAction =
        make(QKeySequence(tr("Ctrl+E")), [this] { exportCurrent(ExportFormat::Png); });
    m_exportCsvAction = make(QKeySequence(), [this] { exportCurrent(ExportFormat::Csv); });

    m_zoomInAction = make(QKeySequence::ZoomIn, [this] { m_blockView->zoomIn(); });
    m_zoomOutAction = make(QKeySequence::ZoomOut, [this] { m_blockView->zoomOut(); });
    m_zoomFitAction = make(QKeySequence(tr("Ctrl+0")), [this] { m_blockView->zoomToFit(); });
    m_zoomResetAction = make(QKeySequence(tr("Ctrl+1")), [this] { m_blockView->resetZoom(); });
    m_resetLayoutAction = make(QKeySequence(), &MainWindow::resetLayout);
    m_clearRecentAction = make(QKeySequence(), [this] {
        AppSettings::clearRecentFiles();
        updateRecentMenu();
    });

    m_aboutAction = make(QKeySequence(), &MainWindow::showAbout);
    m_aboutAction->setMenuRole(QAction::AboutRole);
    m_aboutQtAction = make(QKeySequence(), [] { QApplication::aboutQt(); });
    m_aboutQtAction->setMenuRole(QAction::AboutQtRole);
}

void MainWindow::createMenus()
{
    m_fileMenu = menuBar()->addMenu(QString());
    m_fileMenu->addAction(m_newAction);
    m_fileMenu->addAction(m_openAction);
    m_recentMenu = m_fileMenu->addMenu(QString());
    m_fileMenu->addSeparator();
    m_fileMenu->addAction(m_saveAction);
    m_fileMenu->addAction(m_saveAsAction);
    m_fileMenu->addSeparator();
    m_fileMenu->addAction(m_closeAction);
    m_fileMenu->addAction(m_quitAction);

    m_editMenu = menuBar()->addMenu(QString());
    m_editMenu->addAction(m_undoAction);
    m_editMenu->addAction(m_redoAction);
    m_editMenu->addSeparator();
    m_editMenu->addAction(m_settingsAction);

    m_viewMenu = menuBar()->addMenu(QString());
    for (QDockWidget *dock :
         {static_cast<QDockWidget *>(m_projectDock), m_inspectorDock, m_headDock, m_similarityDock,
          m_entropyDock, static_cast<QDockWidget *>(m_comparisonDock)})
        m_viewMenu->addAction(dock->toggleViewAction());
    m_viewMenu->addSeparator();
    m_viewMenu->addAction(m_zoomInAction);
    m_viewMenu->addAction(m_zoomOutAction);
    m_viewMenu->addAction(m_zoomFitAction);
    m_viewMenu->addAction(m_zoomResetAction);
    m_viewMenu->addSeparator();
    m_viewMenu->addAction(m_resetLayoutAction);

    m_traceMenu = menuBar()->addMenu(QString());
    m_traceMenu->addAction(m_newTraceAction);
    m_traceMenu->addAction(m_renameTraceAction);
    m_traceMenu->addAction(m_deleteTraceAction);
    m_traceMenu->addSeparator();
    m_traceMenu->addAction(m_restartEngineAction);
    m_traceMenu->addAction(m_stopEngineAction);

    m_exportMenu = menuBar()->addMenu(QString());
    m_exportMenu->addAction(m_exportSvgAction);
    m_exportMenu->addAction(m_exportPngAction);
    m_exportMenu->addAction(m_exportCsvAction);

    m_helpMenu = menuBar()->addMenu(QString());
    m_helpMenu->addAction(m_aboutAction);
    m_helpMenu->addAction(m_aboutQtAction);
}

void MainWindow::createToolBars()
{
    m_mainBar = addToolBar(QString());
    m_mainBar->setObjectName("MainToolBar");
    m_mainBar->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
    m_mainBar->addAction(m_newAction);
    m_mainBar->addAction(m_openAction);
    m_mainBar->addAction(m_saveAction);
    m_mainBar->addSeparator();
    m_mainBar->addAction(m_newTraceAction);
    m_mainBar->addSeparator();
    m_mainBar->addAction(m_undoAction);
    m_mainBar->addAction(m_redoAction);

    m_viewBar->setToolButtonStyle(Qt::ToolButtonTextOnly);
    m_viewBar->addWidget(m_siteLabel);
    m_viewBar->addWidget(m_siteBox);
    m_viewBar->addWidget(m_lensSelector); // what the blocks decode: the site and the lens
    m_viewBar->addSeparator();
    m_viewBar->addWidget(m_colourLabel);
    m_viewBar->addWidget(m_colourBox);
    m_viewBar->addSeparator();
    m_viewBar->addWidget(m_headLabel);
    m_viewBar->addWidget(m_headBox);
    m_viewBar->addWidget(m_thresholdLabel);
    m_viewBar->addWidget(m_threshold);
    m_viewBar->addWidget(m_thresholdValue);
    m_viewBar->addSeparator();
    m_viewBar->addAction(m_zoomOutAction);
    m_viewBar->addAction(m_zoomInAction);
    m_viewBar->addAction(m_zoomFitAction);
}

void MainWindow::createDocks()
{
    m_projectDock = new ProjectDock(this);
    addDockWidget(Qt::LeftDockWidgetArea, m_projectDock);
    connect(m_projectDock, &ProjectDock::currentTraceChanged, this, &MainWindow::setCurrentTrace);
    connect(m_projectDock, &ProjectDock::newTraceRequested, this, &MainWindow::newTrace);
    connect(m_projectDock, &ProjectDock::message, this, &MainWindow::showError);

    m_inspector = new InspectorPanel;
    m_inspector->setObjectName("InspectorPanel");
    connect(m_inspector, &InspectorPanel::decomposeRequested, this, &MainWindow::decompose);
    connect(m_inspector, &InspectorPanel::propagateRequested, this, &MainWindow::propagateFrom);
    m_inspectorDock = new QDockWidget(this);
    m_inspectorDock->setObjectName("InspectorDock");
    m_inspectorDock->setWidget(m_inspector);
    addDockWidget(Qt::RightDockWidgetArea, m_inspectorDock);

    m_headPanel = new HeadContributionPanel;
    m_headPanel->setObjectName("HeadContributionPanel");
    m_headDock = new QDockWidget(this);
    m_headDock->setObjectName("HeadContributionDock");
    m_headDock->setWidget(m_headPanel);
    addDockWidget(Qt::BottomDockWidgetArea, m_headDock);
    connect(m_headPanel, &HeadContributionPanel::headSelected, this, [this](int, int head) {
        const int i = m_headBox->findData(head);
        if (i >= 0) m_headBox->setCurrentIndex(i); // through the view settings
    });

    m_entropyPanel = new EntropyPanel;
    m_entropyPanel->setObjectName("EntropyPanel");
    m_entropyDock = new QDockWidget(this);
    m_entropyDock->setObjectName("EntropyDock");
    m_entropyAll = new QCheckBox;
    m_entropyAll->setObjectName("EntropyAllTraces");
    connect(m_entropyAll, &QCheckBox::toggled, this, [this] { scheduleEntropy(); });
    auto *entropyBody = new QWidget;
    auto *entropyLayout = new QVBoxLayout(entropyBody);
    entropyLayout->setContentsMargins(4, 2, 0, 0);
    entropyLayout->setSpacing(0);
    entropyLayout->addWidget(m_entropyAll);
    entropyLayout->addWidget(m_entropyPanel, 1);
    m_entropyDock->setWidget(entropyBody);
    addDockWidget(Qt::BottomDockWidgetArea, m_entropyDock);
    connect(m_entropyDock, &QDockWidget::visibilityChanged, this, [this](bool visible) {
        if (visible) updateEntropy(false);
    });
    splitDockWidget(m_headDock, m_entropyDock, Qt::Horizontal);
    connect(m_entropyPanel, &EntropyPanel::binSelected, this,
            [this](const QVector<QPair<int, int>> &blocks) {
                if (blocks.isEmpty()) return;
                // All of the bin's blocks outlined, the first selected (blockSelected).
                m_blockView->showBlocks(blocks);
                m_selectionStatus->setText(
                    tr("%n block(s) in this bin, outlined; the first is selected. Esc clears "
                       "the outlines.",
                       nullptr, int(blocks.size())));
            });

    m_comparisonDock = new ComparisonDock(this);
    addDockWidget(Qt::BottomDockWidgetArea, m_comparisonDock);
    tabifyDockWidget(m_entropyDock, m_comparisonDock);
    m_entropyDock->raise();
    connect(m_comparisonDock, &ComparisonDock::message, this, &MainWindow::showError);
    connect(m_comparisonDock, &ComparisonDock::blockSelected, this,
            [this](ProjectDocument *doc, const QString &trace, int layer, int pos) {
                if (doc != currentDocument() || trace != currentTrace()) return;
                selectBlock(layer, pos);
            });

    createSimilarityDock(); // after the split: a tabbed head dock would take the entropy dock in

    // The corners go to the side docks, so the bottom row spans only the centre.
    setCorner(Qt::BottomLeftCorner, Qt::LeftDockWidgetArea);
    setCorner(Qt::BottomRightCorner, Qt::RightDockWidgetArea);
    resizeDocks({m_projectDock, m_inspectorDock}, {300, 360}, Qt::Horizontal);
    resizeDocks({m_headDock}, {300}, Qt::Vertical);
    resizeDocks({m_headDock, m_entropyDock}, {520, 480}, Qt::Horizontal);
}

// Head similarity (issue 8): a tab beside the head contributions. It follows the shown trace,
// the selected layer and head, and computes only while it can be seen.
void MainWindow::createSimilarityDock()
{
    m_similarityPanel = new HeadSimilarityPanel;
    m_similarityDock = new QDockWidget(this);
    m_similarityDock->setObjectName("HeadSimilarityDock");
    m_similarityDock->setWidget(m_similarityPanel);
    addDockWidget(Qt::BottomDockWidgetArea, m_similarityDock);
    tabifyDockWidget(m_headDock, m_similarityDock);
    m_headDock->raise();
    connect(m_similarityPanel, &HeadSimilarityPanel::headSelected, this, [this](int, int head) {
        const int i = m_headBox->findData(head);
        if (i >= 0) m_headBox->setCurrentIndex(i); // through the view settings
    });
    connect(m_headBox, &QComboBox::currentIndexChanged, this,
            [this] { m_similarityPanel->setSelectedHead(m_headBox->currentData().toInt()); });
    connect(this, &MainWindow::currentTraceChanged, this, &MainWindow::updateSimilarity);
    // Its tab chosen: compute what it shows now (it computes nothing while behind another tab).
    connect(m_similarityDock, &QDockWidget::visibilityChanged, m_similarityPanel, [this](bool visible) {
        if (visible) m_similarityPanel->ensureComputed();
    });
}

void MainWindow::updateSimilarity()
{
    const Project *p = current();
    if (!p || p->trace.isEmpty()) {
        m_similarityPanel->clear();
        return;
    }
    // The shown trace first; the panel reads the others only for the project scope.
    QStringList names{p->trace};
    for (const QString &n : p->document->traceNames())
        if (n != p->trace) names << n;
    std::vector<HeadSimilaritySource> sources;
    const QPointer<ProjectDocument> doc = p->document;
    for (const QString &name : names) {
        HeadSimilaritySource s;
        s.name = name;
        s.trace = [doc, name]() -> std::shared_ptr<const Trace> {
            return doc ? doc->trace(name) : nullptr;
        };
        s.pattern = [doc, name](int layer) -> std::shared_ptr<const FloatArray> {
            return doc ? doc->attention(name, layer) : nullptr;
        };
        sources.push_back(std::move(s));
    }
    m_similarityPanel->setTraces(sources);
    if (p->layer >= 0) m_similarityPanel->setLayer(p->layer);
    m_similarityPanel->setSelectedHead(m_headBox->currentData().toInt());
}

void MainWindow::retranslateUi()
{
    m_fileMenu->setTitle(tr("&File"));
    m_recentMenu->setTitle(tr("Open &Recent"));
    m_editMenu->setTitle(tr("&Edit"));
    m_viewMenu->setTitle(tr("&View"));
    m_traceMenu->setTitle(tr("&Trace"));
    m_exportMenu->setTitle(tr("E&xport"));
    m_helpMenu->setTitle(tr("&Help"));
    m_mainBar->setWindowTitle(tr("Main Toolbar"));
    m_viewBar->setWindowTitle(tr("View Toolbar"));

    auto set = [](QAction *a, const QString &text, const QString &tip) {
        a->setText(text);
        a->setToolTip(tip);
        a->setStatusTip(tip);
    };
    set(m_newAction, tr("&New Project"), tr("Start a new, empty project"));
    set(m_openAction, tr("&Open…"), tr("Open a .hlproj project"));
    set(m_saveAction, tr("&Save"), tr("Save the project"));
    set(m_saveAsAction, tr("Save &As…"), tr("Save the project under a new name"));
    set(m_closeAction, tr("&Close Project"), tr("Close the current project"));
    set(m_quitAction, tr("&Quit"), tr("Quit HeadLens"));
    m_undoAction->setToolTip(tr("Undo the last change to the project"));
    m_redoAction->setToolTip(tr("Redo the change undone last"));
    set(m_settingsAction, tr("Se&ttings…"), tr("Engine command, recovery copies and language"));
    set(m_newTraceAction, tr("&New Trace…"), tr("Trace a prompt through a model into the project"));
    set(m_renameTraceAction, tr("&Rename Trace"), tr("Rename the selected trace"));
    set(m_deleteTraceAction, tr("&Delete Trace"), tr("Delete the selected trace (can be undone)"));
    set(m_restartEngineAction, tr("&Start Engine"),
        tr("Start the engine process (or start it "
           "again after it stopped)"));
    set(m_stopEngineAction, tr("S&top Engine"),
        tr("Stop the engine process; its memory goes back "
           "to the system"));
    set(m_exportSvgAction, tr("Export View as &SVG…"), tr("Save a view as a vector figure"));
    set(m_exportPngAction, tr("Export View as &PNG…"), tr("Save a view as an image"));
    set(m_exportCsvAction, tr("Export &Numbers as CSV…"), tr("Save the numbers behind a view"));
    set(m_zoomInAction, tr("Zoom &In"), tr("Make the blocks larger"));
    set(m_zoomOutAction, tr("Zoom &Out"), tr("Make the blocks smaller"));
    set(m_zoomFitAction, tr("&Fit"), tr("Fit the whole trace into the view"));
    set(m_zoomResetAction, tr("&Actual Size"), tr("Blocks at their natural size"));
    // Short labels for the view toolbar.
    m_zoomInAction->setIconText(tr("+"));
    m_zoomOutAction->setIconText(tr("−"));
    m_zoomFitAction->setIconText(tr("Fit"));
    set(m_resetLayoutAction, tr("&Reset Layout"), tr("Put the panels back where they started"));
    set(m_clearRecentAction, tr("&Clear List"), tr("Forget the recently opened projects"));
    set(m_aboutAction, tr("&About HeadLens"), tr("Version and the libraries HeadLens is built on"));
    set(m_aboutQtAction, tr("About &Qt"), tr("About the Qt toolkit"));

    m_inspectorDock->setWindowTitle(tr("Inspector"));
    m_headDock->setWindowTitle(tr("Head Contributions"));
    m_similarityDock->setWindowTitle(tr("Head Similarity"));
    m_entropyDock->setWindowTitle(tr("Entropy"));
    m_entropyAll->setText(tr("All traces of the project"));
    m_entropyAll->setToolTip(tr("Show the distributions of every trace of the project, not only "
                                "the one in the block view"));

    m_siteLabel->setText(tr(" Site: "));
    m_siteBox->setToolTip(tr("Which vector of each layer the blocks decode: before the layer "
                             "(resid_pre), the attention output, between attention and MLP "
                             "(resid_mid), the MLP output, or after the layer (resid_post)"));
    m_colourLabel->setText(tr(" Colour: "));
    m_colourBox->setItemText(0, tr("Certainty"));
    m_colourBox->setItemText(1, tr("Entropy"));
    m_colourBox->setToolTip(tr("What a block's colour shows: certainty = the top-1 "
                               "probability of the lens, or the entropy of its distribution"));
    m_headLabel->setText(tr(" Attention: "));
    m_headBox->setToolTip(tr("Whose attention a selected block shows: the mean over heads or "
                             "one head"));
    if (m_headBox->count() > 0) m_headBox->setItemText(0, tr("Mean of heads"));
    for (int i = 1; i < m_headBox->count(); ++i)
        m_headBox->setItemText(i, tr("Head %1").arg(m_headBox->itemData(i).toInt()));
    m_thresholdLabel->setText(tr(" Lines ≥ "));
    m_threshold->setToolTip(tr("Attention lines are drawn to the positions whose weight is at "
                               "least this"));
    m_thresholdValue->setToolTip(m_threshold->toolTip());
    m_tabs->setToolTip(tr("The open projects"));
    m_lensInfo->setToolTip(tr("The lens the current trace was made with"));
    m_engineStatus->setToolTip(tr("The engine process that runs models"));
    for (int i = 0; i < m_tabs->count(); ++i)
        updateTabText(i);
    updateRecentMenu();
    updateEngineStatus();
    updateTitle();
}

void MainWindow::changeEvent(QEvent *event)
{
    if (event->type() == QEvent::LanguageChange) retranslateUi();
    QMainWindow::changeEvent(event);
}

void MainWindow::updateActions()
{
    ProjectDocument *doc = currentDocument();
    const bool haveTrace = doc && !currentTrace().isEmpty();
    m_saveAction->setEnabled(doc);
    m_saveAsAction->setEnabled(doc);
    m_closeAction->setEnabled(doc);
    m_renameTraceAction->setEnabled(haveTrace);
    m_deleteTraceAction->setEnabled(haveTrace);
    for (QAction *a : {m_exportSvgAction, m_exportPngAction, m_exportCsvAction, m_zoomInAction,
                       m_zoomOutAction, m_zoomFitAction, m_zoomResetAction})
        a->setEnabled(haveTrace);
    m_viewBar->setEnabled(haveTrace);
    m_stopEngineAction->setEnabled(m_engine->isRunning());
}

void MainWindow::updateTitle()
{
    ProjectDocument *doc = currentDocument();
    if (!doc) {
        setWindowTitle(tr("HeadLens"));
        setWindowModified(false);
        return;
    }
    const Project *p = current();
    const QString name =
        doc->fileName().isEmpty() ? tr("Untitled %1").arg(p->untitled) : doc->displayName();
    setWindowTitle(tr("%1[*] — HeadLens").arg(name));
    setWindowModified(doc->isModified());
}

void MainWindow::updateTabText(int index)
{
    if (index < 0 || index >= int(m_projects.size())) return;
    const Project &p = m_projects[size_t(index)];
    QString name = p.document->fileName().isEmpty() ? tr("Untitled %1").arg(p.untitled)
                                                    : p.document->displayName();
    if (p.document->isModified()) name += QStringLiteral(" •");
    m_tabs->setTabText(index, name);
    m_tabs->setTabToolTip(index, p.document->fileName().isEmpty() ? tr("Not saved yet")
                                                                  : p.document->fileName());
}

void MainWindow::updateRecentMenu()
{
    m_recentMenu->clear();
    const QStringList files = AppSettings::recentFiles();
    for (int i = 0; i < files.size(); ++i) {
        QAction *a = m_recentMenu->addAction(
            QStringLiteral("&%1 %2").arg(i + 1).arg(QFileInfo(files[i]).fileName()));
        a->setData(files[i]);
        a->setToolTip(files[i]);
        a->setStatusTip(files[i]);
        connect(a, &QAction::triggered, this, &MainWindow::openRecent);
    }
    if (!files.isEmpty()) m_recentMenu->addSeparator();
    m_recentMenu->addAction(m_clearRecentAction);
    m_clearRecentAction->setEnabled(!files.isEmpty());
}

void MainWindow::updateEngineStatus()
{
    QString text;
    switch (m_engine->state()) {
    case EngineClient::State::NotRunning:
        text = tr("Engine: not running");
        m_restartEngineAction->setText(tr("&Start Engine"));
        break;
    case EngineClient::State::Starting:
        text = tr("Engine: starting…");
        m_restartEngineAction->setText(tr("Re&start Engine"));
        break;
    case EngineClient::State::Running: {
        text = tr("Engine: ready (%n thread(s))", nullptr, m_engine->engineThreads());
        const QString model = m_engine->loadedModelInfo().value("name").toString();
        if (!model.isEmpty()) text += QStringLiteral(" · ") + model;
        m_restartEngineAction->setText(tr("Re&start Engine"));
        break;
    }
    }
    m_engineStatus->setText(text);
    m_stopEngineAction->setEnabled(m_engine->isRunning());
}

// ----------------------------------------------------------------------------- projects

int MainWindow::indexOf(ProjectDocument *document) const
{
    for (size_t i = 0; i < m_projects.size(); ++i)
        if (m_projects[i].document == document) return int(i);
    return -1;
}

MainWindow::Project *MainWindow::current()
{
    const int i = m_tabs->currentIndex();
    return i >= 0 && i < int(m_projects.size()) ? &m_projects[size_t(i)] : nullptr;
}

const MainWindow::Project *MainWindow::current() const
{
    const int i = m_tabs->currentIndex();
    return i >= 0 && i < int(m_projects.size()) ? &m_projects[size_t(i)] : nullptr;
}

QList<ProjectDocument *> MainWindow::documents() const
{
    QList<ProjectDocument *> out;
    for (const Project &p : m_projects)
        out << p.document;
    return out;
}

ProjectDocument *MainWindow::currentDocument() const
{
    const Project *p = current();
    return p ? p->document : nullptr;
}

void MainWindow::setCurrentDocument(ProjectDocument *document)
{
    const int i = indexOf(document);
    if (i >= 0) m_tabs->setCurrentIndex(i);
}

ProjectDocument *MainWindow::newProject()
{
    auto *doc = new ProjectDocument(this);
    addProject(doc);
    return doc;
}

ProjectDocument *MainWindow::openProject(const QString &path)
{
    const QString absolute = QFileInfo(path).absoluteFilePath();
    for (const Project &p : m_projects)
        if (p.document->fileName() == absolute) {
            setCurrentDocument(p.document);
            return p.document;
        }
    QString error;
    QGuiApplication::setOverrideCursor(Qt::WaitCursor);
    ProjectDocument *doc = ProjectDocument::open(absolute, &error, this);
    QGuiApplication::restoreOverrideCursor();
    if (!doc) {
        showError(tr("Could not open %1: %2").arg(QFileInfo(path).fileName(), error));
        return nullptr;
    }
    addProject(doc);
    AppSettings::addRecentFile(absolute);
    updateRecentMenu();
    m_messageBar->dismiss();
    return doc;
}

void MainWindow::addProject(ProjectDocument *document)
{
    document->setParent(this);
    Project p;
    p.document = document;
    if (document->fileName().isEmpty()) p.untitled = ++m_untitledCount;
    const QStringList names = document->traceNames();
    if (!names.isEmpty()) p.trace = names.first();
    m_projects.push_back(p);
    m_undoGroup->addStack(document->undoStack());
    connect(document, &ProjectDocument::changed, this,
            [this, document](const ChangeEvent &e) { documentChanged(document, e); });
    m_recovery->addDocument(document);
    const int index = m_tabs->addTab(QString());
    updateTabText(index);
    m_comparisonDock->setDocuments(documents());
    m_tabs->setCurrentIndex(index); // (the first tab became current in addTab already)
}

bool MainWindow::closeProject(ProjectDocument *document)
{
    const int i = indexOf(document);
    if (i < 0) return true;
    if (!maybeSave(document)) return false;
    removeProject(i);
    return true;
}

void MainWindow::removeProject(int index)
{
    ProjectDocument *doc = m_projects[size_t(index)].document;
    if (m_newTraceDialog && m_newTraceDialog->document() == doc) m_newTraceDialog->close();
    m_recovery->removeDocument(doc);
    m_undoGroup->removeStack(doc->undoStack());
    doc->disconnect(this);
    m_projects.erase(m_projects.begin() + index);
    m_tabs->removeTab(index);
    m_comparisonDock->setDocuments(documents());
    doc->deleteLater();
    tabChanged(m_tabs->currentIndex());
}

bool MainWindow::maybeSave(ProjectDocument *document)
{
    if (!document->isModified()) return true;
    const int i = indexOf(document);
    const QString name = document->fileName().isEmpty()
                             ? tr("Untitled %1").arg(i >= 0 ? m_projects[size_t(i)].untitled : 0)
                             : document->displayName();
    const auto answer =
        ask(tr("Unsaved changes"),
            tr("The project %1 has changes that are not saved. Save them?").arg(name),
            QMessageBox::Save | QMessageBox::Discard | QMessageBox::Cancel, QMessageBox::Save);
    if (answer == QMessageBox::Save) return saveProject(document);
    return answer == QMessageBox::Discard;
}

bool MainWindow::saveProject(ProjectDocument *document)
{
    if (!document) return false;
    if (document->fileName().isEmpty()) return saveProjectAs(document);
    QString error;
    QGuiApplication::setOverrideCursor(Qt::WaitCursor);
    const bool ok = document->save(&error);
    QGuiApplication::restoreOverrideCursor();
    if (!ok) {
        showError(tr("Could not save %1: %2").arg(document->displayName(), error));
        return false;
    }
    statusBar()->showMessage(tr("Saved %1").arg(document->fileName()), 4000);
    AppSettings::addRecentFile(document->fileName());
    updateRecentMenu();
    return true;
}

bool MainWindow::saveProjectAs(ProjectDocument *document, const QString &path)
{
    if (!document) return false;
    QString target = path;
    if (target.isEmpty()) {
        const QString start = document->fileName().isEmpty()
                                  ? AppSettings::value("lastFolder").toString()
                                  : document->fileName();
        target = QFileDialog::getSaveFileName(this, tr("Save Project As"), start,
                                              tr("HeadLens projects (*.hlproj)"));
        if (target.isEmpty()) return false;
    }
    if (!isProjectFile(target)) target += QStringLiteral(".hlproj");
    QString error;
    QGuiApplication::setOverrideCursor(Qt::WaitCursor);
    const bool ok = document->saveAs(target, &error);
    QGuiApplication::restoreOverrideCursor();
    if (!ok) {
        showError(tr("Could not save %1: %2").arg(QFileInfo(target).fileName(), error));
        return false;
    }
    AppSettings::setValue("lastFolder", QFileInfo(target).absolutePath());
    AppSettings::addRecentFile(document->fileName());
    updateRecentMenu();
    statusBar()->showMessage(tr("Saved %1").arg(document->fileName()), 4000);
    return true;
}

void MainWindow::open()
{
    const QStringList files = QFileDialog::getOpenFileNames(
        this, tr("Open Project"), AppSettings::value("lastFolder").toString(),
        tr("HeadLens projects (*.hlproj);;All files (*)"));
    for (const QString &f : files) {
        AppSettings::setValue("lastFolder", QFileInfo(f).absolutePath());
        openProject(f);
    }
}

void MainWindow::openRecent()
{
    if (auto *a = qobject_cast<QAction *>(sender())) openProject(a->data().toString());
}

void MainWindow::save()
{
    saveProject(currentDocument());
}

void MainWindow::saveAs()
{
    saveProjectAs(currentDocument());
}

void MainWindow::closeCurrent()
{
    if (ProjectDocument *doc = currentDocument()) closeProject(doc);
}

void MainWindow::tabChanged(int index)
{
    ProjectDocument *doc =
        index >= 0 && index < int(m_projects.size()) ? m_projects[size_t(index)].document : nullptr;
    m_undoGroup->setActiveStack(doc ? doc->undoStack() : nullptr);
    m_projectDock->setDocument(doc);
    showCurrent();
    updateTitle();
    updateActions();
    Q_EMIT currentDocumentChanged(doc);
}

void MainWindow::documentChanged(ProjectDocument *document, const ChangeEvent &event)
{
    const int i = indexOf(document);
    if (i < 0) return;
    Project &p = m_projects[size_t(i)];
    const bool isCurrent = document == currentDocument();
    switch (event.type) {
    case ChangeEvent::Type::TraceAdded:
        // A new trace (made, imported, or back by undo) is what the user wants to see.
        p.trace = event.trace;
        p.layer = p.pos = -1;
        if (isCurrent) showCurrent();
        break;
    case ChangeEvent::Type::TraceRemoved:
        if (isCurrent && m_entropyAll->isChecked()) scheduleEntropy();
        if (p.trace == event.trace) {
            const QStringList names = document->traceNames();
            p.trace = names.isEmpty() ? QString()
                                      : names.value(std::min(event.index, int(names.size()) - 1));
            p.layer = p.pos = -1;
            if (isCurrent) showCurrent();
        }
        break;
    case ChangeEvent::Type::TraceRenamed:
        if (isCurrent && m_entropyAll->isChecked()) scheduleEntropy();
        if (p.trace == event.oldName) {
            p.trace = event.trace;
            if (isCurrent) {
                m_projectDock->setCurrentTrace(p.trace);
                m_lensSelector->setTrace(document, p.trace);
            }
        }
        break;
    case ChangeEvent::Type::ViewSettingsChanged:
        if (isCurrent) applyViewSettings();
        break;
    case ChangeEvent::Type::ModifiedChanged:
    case ChangeEvent::Type::FileNameChanged:
    case ChangeEvent::Type::Saved:
        updateTabText(i);
        if (isCurrent) updateTitle();
        break;
    case ChangeEvent::Type::NotesChanged:
        break;
    }
    if (isCurrent && (event.type == ChangeEvent::Type::TraceRemoved ||
                      event.type == ChangeEvent::Type::TraceRenamed))
        updateSimilarity(); // the project scope's list of traces
    updateActions();
}

// ------------------------------------------------------------------------- showing data

QString MainWindow::currentTrace() const
{
    const Project *p = current();
    return p ? p->trace : QString();
}

void MainWindow::setCurrentTrace(const QString &name)
{
    Project *p = current();
    if (!p || !p->document->hasTrace(name) || p->trace == name) return;
    p->trace = name;
    p->layer = p->pos = -1;
    showCurrent();
}

Site MainWindow::currentSite() const
{
    return Site(m_siteBox->currentData().toInt());
}

void MainWindow::setSite(Site site)
{
    m_siteBox->setCurrentIndex(m_siteBox->findData(int(site)));
}

void MainWindow::clearViews()
{
    m_blockView->clear();
    m_inspector->clear();
    m_headPanel->clear();
    m_entropyPanel->clear();
    m_entropyDirty = false;
    m_lensInfo->clear();
    m_lensSelector->setTrace(nullptr, QString());
    m_selectionStatus->clear();
    m_showing = true;
    m_headBox->clear();
    m_showing = false;
}

void MainWindow::showCurrent()
{
    Project *p = current();
    m_projectDock->setCurrentTrace(p ? p->trace : QString());
    if (!p || p->trace.isEmpty()) {
        clearViews();
        updateActions();
        Q_EMIT currentTraceChanged(QString());
        return;
    }
    try {
        const auto t = p->document->trace(p->trace);
        m_blockView->setTrace(*t);
        m_inspector->setTrace(*t);
        m_headPanel->setTrace(*t);
        m_showing = true;
        m_headBox->clear();
        m_headBox->addItem(tr("Mean of heads"), -1);
        for (int h = 0; h < t->config.nHeads; ++h)
            m_headBox->addItem(tr("Head %1").arg(h), h);
        m_showing = false;
        m_lensInfo->setText(tr("%1 · %2 layers × %3 tokens · lens: %4 norm, %5 decoder ")
                                .arg(q(t->modelName))
                                .arg(t->config.nLayers)
                                .arg(t->nTokens())
                                .arg(QString::fromLatin1(lensNormName(t->lensNorm)),
                                     QString::fromLatin1(lensDecoderName(t->lensDecoder))));
        m_lensSelector->setTrace(p->document, p->trace);
        applyViewSettings(); // site, colour, head, threshold; shows the lens
        if (p->layer >= 0 && p->pos >= 0)
            selectBlock(p->layer, p->pos);
        else
            m_selectionStatus->setText(
                tr("Click a block to see what it decodes to and what it attends to."));
    } catch (const std::exception &e) {
        clearViews();
        showError(tr("Cannot show trace %1: %2").arg(p->trace, q(e.what())));
    }
    updateActions();
    Q_EMIT currentTraceChanged(p->trace);
}

void MainWindow::applyViewSettings()
{
    ProjectDocument *doc = currentDocument();
    if (!doc) return;
    const QJsonObject v = doc->viewSettings();
    m_showing = true;
    const auto site = siteFromName(v.value(kSiteKey).toString("resid_post").toStdString());
    m_siteBox->setCurrentIndex(int(site.value_or(Site::ResidPost)));
    const int colour = m_colourBox->findData(v.value(kColourKey).toString("probability"));
    m_colourBox->setCurrentIndex(colour < 0 ? 0 : colour);
    const int head = m_headBox->findData(v.value(kHeadKey).toInt(-1));
    m_headBox->setCurrentIndex(head < 0 ? 0 : head);
    const int threshold = int(std::lround(v.value(kThresholdKey).toDouble(0.1) * 100));
    m_threshold->setValue(threshold);
    m_thresholdValue->setText(QString::number(threshold / 100.0, 'f', 2));
    m_showing = false;

    m_blockView->setColourMode(m_colourBox->currentIndex() == 1
                                   ? BlockView::ColourMode::Entropy
                                   : BlockView::ColourMode::Probability);
    m_blockView->setAttentionHead(m_headBox->currentData().toInt());
    m_blockView->setAttentionThreshold(threshold / 100.0);
    m_headPanel->setSelectedHead(m_headBox->currentData().toInt());
    showLens();
}

void MainWindow::showLens()
{
    Project *p = current();
    if (!p || p->trace.isEmpty()) return;
    try {
        const Site site = currentSite();
        const auto t = p->document->trace(p->trace);
        const auto lens = p->document->lens(p->trace, site);
        m_blockView->setLens(*lens);
        m_inspector->setLens(site, *lens);
        scheduleEntropy();
        if (p->layer >= 0 && p->pos >= 0) {
            m_blockView->setSelection(p->layer, p->pos);
            m_inspector->setSelection(p->layer, p->pos);
            showAttention();
        }
    } catch (const std::exception &e) {
        showError(tr("Cannot read the lens of %1: %2").arg(p->trace, q(e.what())));
    }
}

// The entropy panel's charts are the slowest view to fill (Qt Charts): they are filled after
// the block view has been painted, and only while the panel can be seen.
void MainWindow::scheduleEntropy()
{
    m_entropyDirty = true;
    QTimer::singleShot(0, this, [this] { updateEntropy(false); });
}

void MainWindow::updateEntropy(bool force)
{
    if (!m_entropyDirty || (!force && !m_entropyDock->isVisible())) return;
    m_entropyDirty = false;
    const Project *p = current();
    if (!p || p->trace.isEmpty()) {
        m_entropyPanel->clear();
        return;
    }
    try {
        // The shown trace first: a click on a bin selects its blocks in the block view.
        QStringList names{p->trace};
        if (m_entropyAll->isChecked())
            for (const QString &n : p->document->traceNames())
                if (n != p->trace) names << n;
        std::vector<std::shared_ptr<const Trace>> traces;
        std::vector<std::shared_ptr<const LensSite>> lenses;
        std::vector<EntropySource> sources;
        for (const QString &n : names) {
            traces.push_back(p->document->trace(n));
            lenses.push_back(p->document->lens(n, currentSite()));
        }
        for (size_t i = 0; i < traces.size(); ++i)
            sources.push_back({traces[i].get(), lenses[i]->empty() ? nullptr : lenses[i].get(), names[int(i)]});
        m_entropyPanel->setTraces(sources);
    } catch (const std::exception &) {
        m_entropyPanel->clear(); // showLens has said what is wrong
    }
}

void MainWindow::showAttention()
{
    Project *p = current();
    if (!p || p->layer < 0 || p->pos < 0) {
        m_blockView->clearAttention();
        return;
    }
    // Small traces: the whole layer (cached, so moving along a row is instant). Large ones:
    // only the selected position's row is read, since a whole layer of a long trace takes
    // seconds to read; the block view needs no more than that row.
    constexpr int64_t kWholeLayerElements = int64_t(4) << 20;
    try {
        const auto t = p->document->trace(p->trace);
        const int64_t H = t->config.nHeads, T = t->nTokens();
        if (H * T * T <= kWholeLayerElements) {
            const auto pattern = p->document->attention(p->trace, p->layer);
            if (pattern)
                m_blockView->setAttention(p->layer, *pattern);
            else
                m_blockView->clearAttention();
            return;
        }
        const auto row = p->document->attentionRow(p->trace, p->layer, p->pos);
        if (!row) {
            m_blockView->clearAttention();
            return;
        }
        FloatArray pattern({H, T, T}); // zero but for the selected query position
        for (int64_t h = 0; h < H; ++h)
            std::copy_n(row->data.begin() + h * T, T, pattern.data.begin() + (h * T + p->pos) * T);
        m_blockView->setAttention(p->layer, pattern);
    } catch (const std::exception &e) {
        m_blockView->clearAttention();
        showError(tr("Cannot read the attention of %1: %2").arg(p->trace, q(e.what())));
    }
}

void MainWindow::viewSettingChanged(const QString &key, const QJsonValue &value)
{
    if (ProjectDocument *doc = currentDocument()) doc->setViewSetting(key, value);
}

void MainWindow::blockClicked(int layer, int pos)
{
    Project *p = current();
    if (!p) return;
    p->layer = layer;
    p->pos = pos;
    m_inspector->setSelection(layer, pos);
    m_headPanel->setSelection(layer, pos);
    m_similarityPanel->setLayer(layer);
    showAttention();
    QString token;
    if (auto t = p->document->trace(p->trace); pos >= 0 && pos < t->nTokens())
        token = q(t->tokens[size_t(pos)].text);
    m_selectionStatus->setText(tr("Layer %1, position %2 (%3), %4")
                                   .arg(layer)
                                   .arg(pos)
                                   .arg(token, QString::fromLatin1(siteName(currentSite()))));
}

void MainWindow::selectBlock(int layer, int pos)
{
    m_blockView->setSelection(layer, pos);
    m_blockView->ensureVisible(layer, pos);
    blockClicked(layer, pos);
}

// ------------------------------------------------------------------------------ engine

NewTraceDialog *MainWindow::showNewTraceDialog()
{
    if (m_newTraceDialog && m_newTraceDialog->isRunning()) {
        m_newTraceDialog->raise();
        m_newTraceDialog->activateWindow();
        return m_newTraceDialog;
    }
    ProjectDocument *doc = currentDocument();
    if (!doc) doc = newProject();
    delete m_newTraceDialog;
    auto *dialog = new NewTraceDialog(m_engine, doc, this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    connect(dialog, &NewTraceDialog::traceAdded, this,
            [this](ProjectDocument *d, const QString &name) {
                setCurrentDocument(d);
                setCurrentTrace(name);
                updateEngineStatus();
                statusBar()->showMessage(tr("Added trace %1").arg(name), 5000);
            });
    connect(dialog, &NewTraceDialog::traceFailed, this, &MainWindow::showError);
    m_newTraceDialog = dialog;
    dialog->show();
    return dialog;
}

void MainWindow::newTrace()
{
    showNewTraceDialog();
}

void MainWindow::applyEngineCommand(const QString &command)
{
    m_engine->setCommand(command);
}

void MainWindow::engineStopped(const QString &message, bool unexpected)
{
    updateEngineStatus();
    updateActions();
    if (unexpected)
        m_messageBar->showMessage(MessageBar::Level::Error, message, {m_restartEngineAction});
    else
        statusBar()->showMessage(message, 4000);
}

void MainWindow::restartEngine()
{
    m_engine->setCommand(AppSettings::engineCommand());
    if (m_engine->isRunning()) {
        m_engine->stop();
        QTimer::singleShot(300, this, [this] { m_engine->start(); });
    } else {
        m_engine->start();
    }
}

void MainWindow::showSettings()
{
    SettingsDialog dialog(this);
    if (dialog.exec() != QDialog::Accepted) return;
    m_engine->setCommand(AppSettings::engineCommand());
    m_recovery->setInterval(AppSettings::autosaveMinutes());
}

// ------------------------------------------------------- decompose / propagate / inject

TraceSpec MainWindow::specFor(const Trace &t) const
{
    TraceSpec spec;
    spec.model = q(t.modelPath);
    spec.tokenizer = m_engine->loadedModel() == spec.model ? m_engine->loadedTokenizer()
                                                           : AppSettings::tokenizerFor(spec.model);
    if (spec.tokenizer.isEmpty() && QFileInfo(spec.model).isFile()) {
        // A llama2.c checkpoint needs its tokenizer; the trace does not record it. One
        // tokenizer file beside the checkpoint is the one (as llama2.c's own layout has it).
        const QDir dir = QFileInfo(spec.model).dir();
        const QStringList candidates =
            dir.entryList({"tokenizer.bin", "tok*.bin"}, QDir::Files, QDir::Name);
        if (candidates.size() == 1) spec.tokenizer = dir.filePath(candidates.first());
    }
    spec.dtype = q(t.computeDtype);
    spec.topk = t.topk;
    spec.lensNorm = QString::fromLatin1(lensNormName(t.lensNorm));
    spec.lensDecoder = QString::fromLatin1(lensDecoderName(t.lensDecoder));
    spec.attention = QString::fromLatin1(storeTypeName(t.attentionStore));
    spec.residuals = QString::fromLatin1(storeTypeName(t.residualStore));
    spec.storeZ = t.zStore != StoreType::None;
    return spec;
}

void MainWindow::withModel(const TraceSpec &spec, const std::function<void()> &then)
{
    if (m_engine->isRunning() && m_engine->loadedModel() == spec.model &&
        m_engine->loadedTokenizer() == spec.tokenizer) {
        then();
        return;
    }
    QJsonObject fields{{"model", spec.model}, {"dtype", spec.dtype}};
    if (!spec.tokenizer.isEmpty()) fields.insert("tokenizer", spec.tokenizer);
    statusBar()->showMessage(tr("Loading %1 in the engine…").arg(QFileInfo(spec.model).fileName()));
    EngineRequest *load = m_engine->send(QStringLiteral("load"), fields);
    connect(load, &EngineRequest::succeeded, this, [this, then] {
        statusBar()->clearMessage();
        updateEngineStatus();
        then();
    });
    connect(load, &EngineRequest::failed, this,
            [this](const QString &kind, const QString &message) {
                m_engineBusy = false;
                updateEngineActions();
                statusBar()->clearMessage();
                if (kind != QLatin1String("engine")) // a stopped engine has its own message already
                    showError(tr("The engine could not load the trace's model: %1").arg(message));
            });
}

void MainWindow::updateEngineActions()
{
    if (m_engineBusy)
        m_inspector->setActionsEnabled(false, tr("The engine is busy with the last request."));
    else
        m_inspector->setActionsEnabled(true);
}

void MainWindow::decomposeSelection()
{
    const Project *p = current();
    if (p && p->layer >= 0 && p->pos >= 0) decompose(currentSite(), p->layer, p->pos);
}

void MainWindow::decompose(Site site, int layer, int pos)
{
    Project *p = current();
    if (!p || p->trace.isEmpty() || m_engineBusy) return;
    QPointer<ProjectDocument> doc = p->document;
    const QString traceName = p->trace;
    std::shared_ptr<const Trace> t;
    try {
        t = doc->trace(traceName);
    } catch (const std::exception &e) {
        showError(q(e.what()));
        return;
    }
    m_engineBusy = true;
    updateEngineActions();
    const TraceSpec spec = specFor(*t);
    QJsonArray ids;
    for (const TokenInfo &tok : t->tokens)
        ids.append(tok.id);
    withModel(spec, [=] {
        QJsonObject fields{{"token_ids", ids},
                           {"site", QString::fromLatin1(siteName(site))},
                           {"layer", layer},
                           {"pos", pos},
                           {"lens_norm", spec.lensNorm},
                           {"lens_decoder", spec.lensDecoder},
                           {"steps", 10}};
        statusBar()->showMessage(tr("Decomposing layer %1, position %2…").arg(layer).arg(pos));
        EngineRequest *r = m_engine->send(QStringLiteral("decompose"), fields);
        connect(r, &EngineRequest::succeeded, this, [=](const QJsonObject &result) {
            m_engineBusy = false;
            updateEngineActions();
            statusBar()->clearMessage();
            const Project *now = current();
            if (!now || now->document != doc || now->trace != traceName || now->layer != layer ||
                now->pos != pos || currentSite() != site)
                return; // the user moved on
            std::vector<DecodeStepRow> rows;
            for (const QJsonValue &v : result.value("steps").toArray()) {
                const QJsonObject o = v.toObject();
                rows.push_back({o.value("id").toInt(), o.value("text").toString(),
                                o.value("prob").toDouble(), o.value("norm").toDouble()});
            }
            m_inspector->setDecomposition(rows);
        });
        connect(r, &EngineRequest::failed, this,
                [this](const QString &kind, const QString &message) {
                    m_engineBusy = false;
                    updateEngineActions();
                    statusBar()->clearMessage();
                    if (kind != QLatin1String("engine"))
                        showError(tr("The engine could not decompose the block: %1").arg(message));
                });
    });
}

void MainWindow::propagateFrom(Site site, int layer, int pos, int kind, int subtractCount,
                               const QString &injectText, int generate)
{
    Project *p = current();
    if (!p || p->trace.isEmpty() || m_engineBusy) return;
    ProjectDocument *doc = p->document;
    std::shared_ptr<const Trace> t;
    try {
        t = doc->trace(p->trace);
    } catch (const std::exception &e) {
        showError(q(e.what()));
        return;
    }
    static const char *kinds[] = {"unchanged", "subtract", "inject"};
    const QString kindName = QString::fromLatin1(kinds[std::clamp(kind, 0, 2)]);
    TraceSpec spec = specFor(*t);
    spec.command = QStringLiteral("propagate");
    spec.generate = generate;
    spec.name = doc->uniqueTraceName(p->trace + QLatin1Char('-') + kindName);
    QJsonArray tokens;
    for (int i = 0; i <= pos && i < t->nTokens(); ++i) {
        const TokenInfo &tok = t->tokens[size_t(i)];
        tokens.append(QJsonObject{
            {"id", tok.id}, {"text", q(tok.text)}, {"begin", tok.begin}, {"end", tok.end}});
    }
    spec.extra = QJsonObject{{"parent", p->trace}, {"prompt", q(t->prompt)},
                             {"tokens", tokens},   {"site", QString::fromLatin1(siteName(site))},
                             {"layer", layer},     {"pos", pos},
                             {"kind", kindName},   {"subtract", subtractCount}};
    if (kind == InspectorPanel::Inject) spec.extra.insert("inject_text", injectText);

    m_engineBusy = true;
    updateEngineActions();
    auto *job = new TraceJob(m_engine, doc, spec, this);
    m_propagateJob = job;
    connect(job, &TraceJob::progress, this, [this](const QString &text) {
        statusBar()->showMessage(tr("Propagating: %1").arg(text));
    });
    connect(job, &TraceJob::finished, this,
            [this, job](TraceJob::Result result, const QString &message) {
                m_engineBusy = false;
                updateEngineActions();
                statusBar()->clearMessage();
                if (result == TraceJob::Result::Succeeded)
                    statusBar()->showMessage(tr("Added trace %1").arg(message), 5000);
                else if (result == TraceJob::Result::Failed && m_engine->isRunning())
                    showError(message); // a stopped engine has said so in the message bar already
                job->deleteLater();
            });
    job->start();
}

// ------------------------------------------------------------------------------ export

QList<QPair<QString, QWidget *>> MainWindow::exportableViews() const
{
    return {{tr("Block view"), m_blockView},
            {tr("Inspector"), m_inspector},
            {tr("Head contributions"), m_headPanel},
            {tr("Entropy"), m_entropyPanel},
            {tr("Comparison"), m_comparisonDock->panel()},
            {tr("Head similarity"), m_similarityPanel}};
}

bool MainWindow::exportView(QWidget *view, ExportFormat format, const QString &path,
                            const QSize &size, QString *error)
{
    if (view == m_entropyPanel) updateEntropy(true);
    if (view == m_similarityPanel) m_similarityPanel->ensureComputed(true);
    switch (format) {
    case ExportFormat::Svg:
        return exportSvg(view, path, size, error);
    case ExportFormat::Png:
        return exportPng(view, path, size, error);
    case ExportFormat::Csv:
        if (auto *ev = dynamic_cast<ExportableView *>(view))
            return exportCsv(ev->csv(), path, error);
        if (error) *error = tr("This view has no numbers to export.");
        return false;
    }
    return false;
}

void MainWindow::exportCurrent(ExportFormat format)
{
    const auto views = exportableViews();
    QStringList names;
    int chosen = 0;
    QWidget *focus = QApplication::focusWidget();
    for (int i = 0; i < views.size(); ++i) {
        names << views[i].first;
        if (focus && views[i].second->isAncestorOf(focus)) chosen = i;
    }
    ExportDialog dialog(names, chosen, ExportDialog::Format(int(format)), this);
    if (dialog.exec() != QDialog::Accepted) return;
    QString error;
    const auto fmt = ExportFormat(int(dialog.format()));
    if (!exportView(views[dialog.view()].second, fmt, dialog.fileName(), dialog.size(), &error))
        showError(tr("Could not export: %1").arg(error));
    else
        statusBar()->showMessage(tr("Exported %1").arg(dialog.fileName()), 5000);
}

// ------------------------------------------------------------------------------ layout

void MainWindow::saveLayout() const
{
    QSettings s;
    s.setValue("window/geometry", saveGeometry());
    s.setValue("window/state", saveState(kLayoutVersion));
}

bool MainWindow::restoreLayout()
{
    QSettings s;
    const QByteArray geometry = s.value("window/geometry").toByteArray();
    const QByteArray state = s.value("window/state").toByteArray();
    if (!geometry.isEmpty()) restoreGeometry(geometry);
    return !state.isEmpty() && restoreState(state, kLayoutVersion);
}

void MainWindow::resetLayout()
{
    restoreState(m_defaultState, kLayoutVersion);
    for (QDockWidget *dock : findChildren<QDockWidget *>())
        dock->show();
    m_entropyDock->raise();
    m_headDock->raise();
}

// ------------------------------------------------------------------------------ messages

void MainWindow::showError(const QString &text)
{
    m_messageBar->showMessage(MessageBar::Level::Error, text);
}

void MainWindow::showInfo(const QString &text)
{
    m_messageBar->showMessage(MessageBar::Level::Information, text);
}

QMessageBox::StandardButton MainWindow::ask(const QString &title, const QString &text,
                                            QMessageBox::StandardButtons buttons,
                                            QMessageBox::StandardButton fallback)
{
    return m_ask(this, title, text, buttons, fallback);
}

void MainWindow::showAbout()
{
    QMessageBox::about(
        this, tr("About HeadLens"),
        tr("<h3>HeadLens %1</h3>"
           "<p>A workbench for looking inside transformer language models: the logit lens at "
           "every layer and site, attention, and what each head contributes.</p>"
           "<p>Built on:</p><ul>"
           "<li>Qt %2 (widgets, charts, SVG)</li>"
           "<li>libtorch, in the engine process headlens-cli (the workbench does not load it)</li>"
           "<li>HDF5 %3 for .hlproj projects</li>"
           "<li>nlohmann/json %4</li></ul>")
            .arg(QStringLiteral(HEADLENS_VERSION), QString::fromLatin1(qVersion()),
                 q(hdf5LibraryVersion()), q(jsonLibraryVersion())));
}

void MainWindow::offerRecovery()
{
    const auto pending = RecoveryManager::pending();
    if (pending.isEmpty()) return;
    QStringList lines;
    for (const auto &r : pending)
        lines << QStringLiteral("<li>%1 (%2)</li>")
                     .arg((r.originalFile.isEmpty() ? r.title : r.originalFile).toHtmlEscaped(),
                          QLocale().toString(r.saved.toLocalTime(), QLocale::ShortFormat));
    const auto answer =
        ask(tr("Recover unsaved projects"),
            tr("HeadLens did not close normally last time. These projects had unsaved changes:"
               "<ul>%1</ul>Open the recovered versions? (No discards them.)")
                .arg(lines.join(QString())),
            QMessageBox::Yes | QMessageBox::No | QMessageBox::Cancel, QMessageBox::Yes);
    if (answer == QMessageBox::Cancel) return; // ask again next time
    for (const auto &r : pending) {
        if (answer == QMessageBox::Yes) {
            QString error;
            ProjectDocument *doc = ProjectDocument::open(r.file, &error, this);
            if (!doc) {
                showError(tr("Could not recover %1: %2").arg(r.title, error));
                continue;
            }
            doc->markRecovered(r.originalFile);
            addProject(doc);
        }
        RecoveryManager::discard(r);
    }
}

// ------------------------------------------------------------------- closing, drag & drop

void MainWindow::closeEvent(QCloseEvent *event)
{
    if (m_newTraceDialog && m_newTraceDialog->isRunning()) {
        const auto answer =
            ask(tr("A trace is running"), tr("A trace is still being made. Stop it and quit?"),
                QMessageBox::Yes | QMessageBox::No, QMessageBox::No);
        if (answer != QMessageBox::Yes) {
            event->ignore();
            return;
        }
        m_newTraceDialog->cancel();
    }
    for (const Project &p : m_projects) {
        setCurrentDocument(p.document);
        if (!maybeSave(p.document)) {
            event->ignore();
            return;
        }
    }
    saveLayout();
    m_engine->stop(1500);
    event->accept();
}

void MainWindow::dragEnterEvent(QDragEnterEvent *event)
{
    for (const QUrl &url : event->mimeData()->urls())
        if (url.isLocalFile() && isProjectFile(url.toLocalFile())) {
            event->acceptProposedAction();
            return;
        }
}

void MainWindow::dropEvent(QDropEvent *event)
{
    bool any = false;
    for (const QUrl &url : event->mimeData()->urls())
        if (url.isLocalFile() && isProjectFile(url.toLocalFile())) {
            openProject(url.toLocalFile());
            any = true;
        }
    if (any) event->acceptProposedAction();
}

} // namespace HeadLens
