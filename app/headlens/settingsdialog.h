#pragma once
// Preferences: the engine command (a full command line, so "ssh gpu-server headlens-cli
// serve" works), how often crash-recovery copies are written, and the interface language.

#include <QDialog>

class QComboBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QSpinBox;

namespace HeadLens {

class SettingsDialog : public QDialog {
    Q_OBJECT
public:
    explicit SettingsDialog(QWidget *parent = nullptr);

    QString engineCommand() const;
    void setEngineCommand(const QString &command);
    int autosaveMinutes() const;
    QString language() const;

    // Writes the values to AppSettings (what OK does).
    void apply();
    // Languages there are translations for: locale name -> native name ("" = system).
    static QList<QPair<QString, QString>> availableLanguages();

public Q_SLOTS:
    void retranslateUi();

protected:
    void changeEvent(QEvent *event) override;

private:
    QLabel *m_engineLabel, *m_autosaveLabel, *m_languageLabel, *m_engineHint, *m_languageHint;
    QLineEdit *m_engine;
    QPushButton *m_default;
    QSpinBox *m_autosave;
    QComboBox *m_language;
};

} // namespace HeadLens
