// headlens: the workbench. Thin on purpose: everything lives in headlens_app (MainWindow).
//   headlens [FILE.hlproj ...] [--trace NAME] [--site SITE] [--colour probability|entropy|patching]
//            [--head H] [--select LAYER,POS] [--compare TRACE] [--decompose] [--follow ID]
//            [--raise PANEL]
// The view options set how the first project is shown at start (scripts, screenshots); they
// are not edits, so the project starts unmodified.

#include "appsettings.h"
#include "comparisondock.h"
#include "mainwindow.h"
#include "traceview.h"

#include "headlens/document/projectdocument.h"
#include "headlens/document/viewstate.h"
#include "headlens/trace/trace.h"
#include "headlens/trace/version.h"

#include <QApplication>
#include <QComboBox>
#include <QCommandLineParser>
#include <QDir>
#include <QDockWidget>
#include <QIcon>
#include <QLibraryInfo>
#include <QLocale>
#include <QTimer>
#include <QTranslator>
#include <QUndoStack>

using namespace HeadLens;

static void installTranslators(QApplication &app)
{
    const QString language = AppSettings::language();
    const QLocale locale = language.isEmpty() ? QLocale() : QLocale(language);
    auto *qt = new QTranslator(&app);
    if (qt->load(locale, "qtbase", "_", QLibraryInfo::path(QLibraryInfo::TranslationsPath)))
        app.installTranslator(qt);
    auto *own = new QTranslator(&app);
    for (const QString &dir :
         {QCoreApplication::applicationDirPath() + "/translations",
          QCoreApplication::applicationDirPath() + "/../share/headlens/translations"})
        if (own->load(locale, "headlens", "_", dir)) {
            app.installTranslator(own);
            break;
        }
}

int main(int argc, char **argv)
{
    QApplication app(argc, argv);
    QApplication::setApplicationName("HeadLens");
    QApplication::setOrganizationName("HeadLens");
    QApplication::setApplicationVersion(HEADLENS_VERSION);
    // The desktop file's name (packaging/org.headlens.HeadLens.desktop): the Wayland app id,
    // so the shell finds the launcher's name and icon for the window.
    QApplication::setDesktopFileName("org.headlens.HeadLens");
    // The installed theme icon, else the copy built in (running from the build tree).
    QApplication::setWindowIcon(QIcon::fromTheme(
        "org.headlens.HeadLens", QIcon(QStringLiteral(":/icons/org.headlens.HeadLens.svg"))));
    installTranslators(app);

    QCommandLineParser parser;
    parser.setApplicationDescription(QCoreApplication::translate(
        "main", "A workbench for looking inside transformer language models"));
    parser.addHelpOption();
    parser.addVersionOption();
    parser.addPositionalArgument(
        "files", QCoreApplication::translate("main", "Projects to open (.hlproj)"), "[FILE...]");
    QCommandLineOption traceOption("trace", QCoreApplication::translate("main", "Show this trace"),
                                   "name");
    QCommandLineOption siteOption("site", QCoreApplication::translate("main", "Show this site"),
                                  "site");
    QCommandLineOption selectOption("select", QCoreApplication::translate("main", "Select a block"),
                                    "layer,pos");
    QCommandLineOption compareOption(
        "compare", QCoreApplication::translate("main", "Compare the shown trace with this one"),
        "name");
    QCommandLineOption colourOption(
        "colour",
        QCoreApplication::translate("main", "Colour blocks by probability, entropy or patching"),
        "mode");
    QCommandLineOption headOption(
        "head", QCoreApplication::translate("main", "Show the attention of one head"), "head");
    QCommandLineOption decomposeOption(
        "decompose",
        QCoreApplication::translate("main", "Decompose the selected block in the engine"));
    QCommandLineOption followOption(
        "follow",
        QCoreApplication::translate("main", "Follow one token (its id) through the block grid"),
        "id");
    QCommandLineOption raiseOption(
        "raise",
        QCoreApplication::translate("main", "Bring this panel to the front (its object name, "
                                            "such as LogitAttributionDock or HeadRolesDock)"),
        "panel");
    parser.addOptions({traceOption, siteOption, colourOption, headOption, selectOption,
                       compareOption, decomposeOption, followOption, raiseOption});
    parser.process(app);

    MainWindow window;
    window.show();
    for (const QString &file : parser.positionalArguments())
        window.openProject(file);
    if (parser.isSet(traceOption)) window.setCurrentTrace(parser.value(traceOption));
    if (parser.isSet(siteOption))
        if (auto site = siteFromName(parser.value(siteOption).toStdString())) window.setSite(*site);
    if (parser.isSet(colourOption)) { // the box holds ViewState::Colour values, named so
        QComboBox *box = window.traceView()->colourBox();
        for (int i = 0; i < box->count(); ++i)
            if (parser.value(colourOption) ==
                QLatin1String(ViewState::colourName(ViewState::Colour(box->itemData(i).toInt()))))
                box->setCurrentIndex(i);
    }
    if (parser.isSet(headOption)) {
        const int i = window.traceView()->headBox()->findData(parser.value(headOption).toInt());
        if (i >= 0) window.traceView()->headBox()->setCurrentIndex(i);
    }
    if (ProjectDocument *doc = window.currentDocument(); doc && parser.isSet(followOption))
        doc->view()->setFollowToken(parser.value(followOption).toInt());
    if (ProjectDocument *doc = window.currentDocument()) doc->undoStack()->clear();
    if (parser.isSet(selectOption)) {
        const QStringList lp = parser.value(selectOption).split(',');
        if (lp.size() == 2) window.selectBlock(lp[0].toInt(), lp[1].toInt());
    }
    if (parser.isSet(compareOption) && window.currentDocument()) {
        window.comparisonDock()->compare(window.currentDocument(), window.currentTrace(),
                                         window.currentDocument(), parser.value(compareOption));
        window.comparisonDock()->raise();
    }
    if (parser.isSet(decomposeOption)) window.decomposeSelection();
    for (const QString &name : parser.values(raiseOption))
        if (auto *dock = window.findChild<QDockWidget *>(name)) dock->raise();
    QTimer::singleShot(0, &window, &MainWindow::offerRecovery);
    return app.exec();
}
