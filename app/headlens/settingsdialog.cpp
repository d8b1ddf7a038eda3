#include "settingsdialog.h"

#include "appsettings.h"
#include "okcancel.h"

#include <QComboBox>
#include <QCoreApplication>
#include <QDir>
#include <QEvent>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QPushButton>
#include <QSpinBox>

namespace HeadLens {

SettingsDialog::SettingsDialog(QWidget *parent)
    : QDialog(parent), m_engineLabel(new QLabel), m_autosaveLabel(new QLabel),
      m_languageLabel(new QLabel), m_engineHint(new QLabel), m_languageHint(new QLabel),
      m_engine(new QLineEdit), m_default(new QPushButton), m_autosave(new QSpinBox),
      m_language(new QComboBox)
{
    setObjectName("SettingsDialog");
    m_autosave->setObjectName("AutosaveMinutes");
    m_engine->setMinimumWidth(460);
    m_engineHint->setContentsMargins(0, 0, 0, 8);
    m_engineHint->setWordWrap(true);
    m_languageHint->setWordWrap(true);
    m_autosave->setRange(0, 120);
    auto *engineRow = new QHBoxLayout;
    engineRow->addWidget(m_engine, 1);
    engineRow->addWidget(m_default);
    connect(m_default, &QPushButton::clicked, this,
            [this] { m_engine->setText(AppSettings::defaultEngineCommand()); });

    auto *form = new QFormLayout;
    form->setFieldGrowthPolicy(QFormLayout::FieldsStayAtSizeHint);
    form->addRow(m_engineLabel, engineRow);
    form->addRow(m_engineHint);
    form->addRow(m_autosaveLabel, m_autosave);
    form->addRow(m_languageLabel, m_language);
    form->addRow(m_languageHint);
    layOutWithOkCancel(this, form, [this] { apply(); });

    retranslateUi();
    m_engine->setText(AppSettings::engineCommand());
    m_autosave->setValue(AppSettings::autosaveMinutes());
    const int lang = m_language->findData(AppSettings::language());
    m_language->setCurrentIndex(lang < 0 ? 0 : lang);
}

QList<QPair<QString, QString>> SettingsDialog::availableLanguages()
{
    QList<QPair<QString, QString>> out;
    out << qMakePair(QString(), tr("System default"));
    out << qMakePair(QStringLiteral("en"), QStringLiteral("English"));
    const QStringList dirs = {QCoreApplication::applicationDirPath() + "/translations",
                              QCoreApplication::applicationDirPath() +
                                  "/../share/headlens/translations"};
    for (const QString &dir : dirs) {
        for (const QString &file : QDir(dir).entryList({"headlens_*.qm"}, QDir::Files)) {
            const QString name = file.mid(9, file.size() - 9 - 3);
            if (name == QLatin1String("en")) continue;
            bool known = false;
            for (const auto &p : out)
                known |= p.first == name;
            if (!known) out << qMakePair(name, QLocale(name).nativeLanguageName());
        }
    }
    return out;
}

void SettingsDialog::retranslateUi()
{
    setWindowTitle(tr("Settings"));
    m_engineLabel->setText(tr("&Engine command:"));
    m_engineLabel->setBuddy(m_engine);
    m_engine->setToolTip(tr("The command line that starts the engine; it must end in "
                            "\"headlens-cli serve\""));
    m_engineHint->setText(tr("The engine runs models in a separate process. To use a GPU server, "
                             "write for example: <tt>ssh gpu-server headlens-cli serve</tt> (the "
                             "server must see the same folders for models and scratch files). "
                             "Takes effect when the engine starts next."));
    m_default->setText(tr("&Default"));
    m_default->setToolTip(tr("Use the headlens-cli installed beside HeadLens"));
    m_autosaveLabel->setText(tr("&Recovery copies every:"));
    m_autosaveLabel->setBuddy(m_autosave);
    m_autosave->setSuffix(tr(" min"));
    m_autosave->setSpecialValueText(tr("never"));
    m_autosave->setToolTip(tr("How often unsaved projects are copied aside, to be recovered "
                              "after a crash"));
    m_languageLabel->setText(tr("&Language:"));
    m_languageLabel->setBuddy(m_language);
    m_language->setToolTip(tr("The language of the interface"));
    m_languageHint->setText(tr("A new language is used from the next start."));
    const QString current = m_language->currentData().toString();
    m_language->clear();
    for (const auto &[code, name] : availableLanguages())
        m_language->addItem(name, code);
    const int i = m_language->findData(current);
    m_language->setCurrentIndex(i < 0 ? 0 : i);
}

void SettingsDialog::changeEvent(QEvent *event)
{
    if (event->type() == QEvent::LanguageChange) retranslateUi();
    QDialog::changeEvent(event);
}

QString SettingsDialog::engineCommand() const
{
    return m_engine->text().trimmed();
}

void SettingsDialog::setEngineCommand(const QString &command)
{
    m_engine->setText(command);
}

int SettingsDialog::autosaveMinutes() const
{
    return m_autosave->value();
}

QString SettingsDialog::language() const
{
    return m_language->currentData().toString();
}

void SettingsDialog::apply()
{
    AppSettings::setEngineCommand(engineCommand());
    AppSettings::setAutosaveMinutes(autosaveMinutes());
    AppSettings::setLanguage(language());
}

} // namespace HeadLens
