#pragma once
// The workbench's own settings (QSettings), in one place so every key is spelled once: the
// engine command, autosave, language, recent files and what the new-trace dialog remembers.

#include <QString>
#include <QStringList>
#include <QVariant>

namespace HeadLens {

// Static accessors over QSettings; not instantiated.
class AppSettings {
public:
    // The engine command line; defaultEngineCommand() until the user sets one.
    static QString engineCommand();
    static void setEngineCommand(const QString &command);
    // headlens-cli installed beside headlens, else the one of the build tree it was built
    // with, else whatever "headlens-cli" the PATH finds; always with " serve".
    static QString defaultEngineCommand();

    // Minutes between crash-recovery copies of modified projects; 0: never.
    static int autosaveMinutes();
    static void setAutosaveMinutes(int minutes);

    // "" (the system's language) or a locale name such as "en" or "de".
    static QString language();
    static void setLanguage(const QString &language);

    static QStringList recentFiles();
    static void addRecentFile(const QString &path);
    static void removeRecentFile(const QString &path);
    static void clearRecentFiles();
    static constexpr int kMaxRecentFiles = 10;

    // The tokenizer last used with a model (a llama2.c checkpoint needs one; a trace records
    // only the model's path), so decompose and propagate can load the model again.
    static QString tokenizerFor(const QString &modelPath);
    static void setTokenizerFor(const QString &modelPath, const QString &tokenizer);

    // Free-form values of dialogs (the new-trace dialog's model, tokenizer, options).
    static QVariant value(const QString &key, const QVariant &fallback = {});
    static void setValue(const QString &key, const QVariant &value);

private:
    AppSettings() = delete;
};

} // namespace HeadLens
