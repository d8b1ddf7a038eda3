#include "headlens/document/projectdocument.h"
#include "headlens/document/viewstate.h"

#include "headlens/document/changevalue.h"
#include "headlens/document/recoverymanager.h"
#include "headlens/document/renametrace.h"
#include "headlens/document/setheadroles.h"
#include "headlens/document/tracelistcommands.h"
#include "headlens/project/headrolesstore.h"
#include "headlens/project/patchstore.h"
#include "headlens/trace/error.h"
#include "traceentry.h"

#include <QDir>
#include <QFileInfo>
#include <QJsonDocument>
#include <QTemporaryDir>
#include <QUndoStack>

#include <algorithm>
#include <stdexcept>

namespace HeadLens {

namespace {

// Attention layers kept in memory per document; the least recently used go first.
constexpr size_t kAttentionCacheBytes = size_t(512) << 20;

QString q(const std::string &s)
{
    return QString::fromStdString(s);
}

std::string s(const QString &q)
{
    return q.toStdString();
}

TraceListing listingOf(const Trace &t)
{
    TraceListing l;
    l.name = t.name;
    l.prompt = t.prompt;
    l.modelName = t.modelName;
    l.created = t.created;
    l.parent = t.parent;
    l.nTokens = t.nTokens();
    l.nLayers = t.config.nLayers;
    l.nHeads = t.config.nHeads;
    return l;
}

} // namespace

ProjectDocument::ProjectDocument(QObject *parent)
    : QObject(parent), m_undoStack(new QUndoStack(this))
{
    m_view = new ViewState(this); // after the members it reads
    connect(m_undoStack, &QUndoStack::cleanChanged, this, [this] { emitModified(); });
}

ProjectDocument::~ProjectDocument() = default;

ProjectDocument *ProjectDocument::open(const QString &path, QString *error, QObject *parent)
{
    auto doc = std::make_unique<ProjectDocument>(parent);
    if (!doc->openFile(path, error)) return nullptr;
    return doc.release();
}

bool ProjectDocument::openFile(const QString &path, QString *error)
{
    const QString absolute = QFileInfo(path).absoluteFilePath();
    // What this reads, readProjectStructure reads too (with every object's metadata besides),
    // in the child process that checks a file before it is opened here.
    try {
        auto source = std::make_shared<SourceFile>(s(absolute));
        const ProjectExtras extras = readProjectExtras(s(absolute));
        std::vector<std::shared_ptr<TraceEntry>> entries;
        for (const TraceListing &l : source->reader.info().traces) {
            auto e = std::make_shared<TraceEntry>();
            e->id = m_nextEntryId++;
            e->listing = l;
            e->source = source;
            e->sourceName = l.name;
            entries.push_back(std::move(e));
        }
        QJsonObject view;
        if (!extras.viewSettings.empty()) {
            const QJsonDocument json =
                QJsonDocument::fromJson(QByteArray::fromStdString(extras.viewSettings));
            if (json.isObject()) view = json.object(); // unreadable settings are only settings
        }
        m_source = std::move(source);
        m_entries = std::move(entries);
        m_notes = q(extras.notes);
        m_viewSettings = view;
        m_fileName = absolute;
        if (!m_entries.empty()) m_view->setTrace(q(m_entries.front()->listing.name));
        m_view->apply(view); // where the project was left, when it says so
        return true;
    } catch (const std::exception &e) {
        if (error) *error = q(e.what());
        return false;
    }
}

// ------------------------------------------------------------------------------------- file

QString ProjectDocument::displayName() const
{
    return m_fileName.isEmpty() ? tr("Untitled") : QFileInfo(m_fileName).fileName();
}

bool ProjectDocument::isModified() const
{
    return m_recovered || !m_undoStack->isClean();
}

void ProjectDocument::markRecovered(const QString &fileName)
{
    m_recovered = true;
    const QString absolute =
        fileName.isEmpty() ? QString() : QFileInfo(fileName).absoluteFilePath();
    if (absolute != m_fileName) {
        m_fileName = absolute;
        Q_EMIT changed(ChangeEvent(ChangeEvent::Type::FileNameChanged));
    }
    emitModified();
}

void ProjectDocument::emitModified()
{
    const bool modified = isModified();
    if (modified == m_lastModified) return;
    m_lastModified = modified;
    Q_EMIT changed(ChangeEvent(ChangeEvent::Type::ModifiedChanged));
}

std::vector<ProjectTraceSource> ProjectDocument::sources() const
{
    std::vector<ProjectTraceSource> out;
    for (const auto &e : m_entries) {
        ProjectTraceSource src;
        src.name = e->listing.name;
        src.parent = e->listing.parent;
        src.headRoles = e->roles;
        if (e->memory) {
            auto memory = e->memory;
            src.load = [memory] { return *memory; };
        } else if (e->source->stillAtPath()) {
            src.file = e->source->reader.path();
            src.fileTrace = e->sourceName;
        } else {
            // The file was replaced since (by our own save, or by another program): read the
            // trace through the reader, which still sees the version it opened.
            auto source = e->source;
            const std::string name = e->sourceName;
            src.load = [source, name] { return source->reader.readTraceFull(name); };
        }
        out.push_back(std::move(src));
    }
    return out;
}

ProjectExtras ProjectDocument::extras() const
{
    ProjectExtras x;
    x.notes = s(m_notes);
    // What the views show is saved with the project, though looking around is not an edit.
    QJsonObject settings = m_viewSettings;
    const QJsonObject view = m_view->toJson();
    for (auto it = view.begin(); it != view.end(); ++it)
        settings.insert(it.key(), it.value());
    x.viewSettings = QJsonDocument(settings).toJson(QJsonDocument::Compact).toStdString();
    return x;
}

bool ProjectDocument::writeTo(const QString &path, QString *error) const
{
    try {
        const std::string keep =
            m_source && m_source->stillAtPath() ? m_source->reader.path() : std::string();
        writeProject(s(path), sources(), extras(), keep);
        return true;
    } catch (const std::exception &e) {
        if (error) *error = q(e.what());
        return false;
    }
}

bool ProjectDocument::writeCopy(const QString &path, QString *error) const
{
    return writeTo(path, error);
}

bool ProjectDocument::save(QString *error)
{
    if (m_fileName.isEmpty()) {
        if (error) *error = tr("The project has no file name yet; use Save As.");
        return false;
    }
    return saveAs(m_fileName, error);
}

bool ProjectDocument::saveAs(const QString &path, QString *error)
{
    const QString absolute = QFileInfo(path).absoluteFilePath();
    if (!writeTo(absolute, error)) return false;
    adoptSavedFile(absolute);
    return true;
}

// After a save the traces are read from the new file; the old readers stay alive for the
// undo stack's removed traces.
void ProjectDocument::adoptSavedFile(const QString &path)
{
    std::shared_ptr<SourceFile> source;
    try {
        source = std::make_shared<SourceFile>(s(path));
    } catch (const std::exception &) {
        source.reset(); // written but unreadable now? keep the old sources; they still work
    }
    if (source) {
        for (const auto &e : m_entries) {
            if (!source->reader.hasTrace(e->listing.name)) continue;
            e->source = source;
            e->sourceName = e->listing.name;
            e->memory.reset();
        }
        m_source = source;
    }
    const bool renamed = path != m_fileName;
    m_fileName = path;
    m_recovered = false;
    m_undoStack->setClean();
    if (renamed) Q_EMIT changed(ChangeEvent(ChangeEvent::Type::FileNameChanged));
    Q_EMIT changed(ChangeEvent(ChangeEvent::Type::Saved));
    emitModified();
}

// ----------------------------------------------------------------------------------- traces

int ProjectDocument::traceCount() const
{
    return int(m_entries.size());
}

QStringList ProjectDocument::traceNames() const
{
    QStringList names;
    for (const auto &e : m_entries)
        names << q(e->listing.name);
    return names;
}

bool ProjectDocument::hasTrace(const QString &name) const
{
    return indexOf(name) >= 0;
}

int ProjectDocument::indexOf(const QString &name) const
{
    const std::string n = s(name);
    for (size_t i = 0; i < m_entries.size(); ++i)
        if (m_entries[i]->listing.name == n) return int(i);
    return -1;
}

std::shared_ptr<TraceEntry> ProjectDocument::entry(const QString &name) const
{
    const int i = indexOf(name);
    if (i < 0) throw std::out_of_range("no trace '" + s(name) + "' in " + s(displayName()));
    return m_entries[size_t(i)];
}

TraceListing ProjectDocument::listing(const QString &name) const
{
    return entry(name)->listing;
}

QString ProjectDocument::uniqueTraceName(const QString &base) const
{
    QString b = base.trimmed();
    if (b.isEmpty() || !traceNameProblem(s(b)).empty()) b = QStringLiteral("trace");
    return q(freeTraceName(s(b), [this](const std::string &n) { return hasTrace(q(n)); }));
}

std::shared_ptr<const Trace> ProjectDocument::trace(const QString &name) const
{
    const auto e = entry(name);
    auto it = m_traceCache.find(e->id);
    if (it != m_traceCache.end()) return it->second;
    std::shared_ptr<Trace> t;
    if (e->memory) {
        t = std::make_shared<Trace>(*e->memory);
        for (auto &site : t->lens) // the cache holds the light part only
            site = LensSite();
        t->attentionPattern.clear();
        for (auto &r : t->residual)
            r.clear();
        t->z.clear();
    } else {
        t = std::make_shared<Trace>(e->source->reader.readTrace(e->sourceName));
    }
    t->name = e->listing.name;
    t->parent = e->listing.parent;
    m_traceCache[e->id] = t;
    return t;
}

std::shared_ptr<const HeadRoles> ProjectDocument::headRoles(const QString &name) const
{
    const auto e = entry(name);
    if (e->roles) return e->roles;
    if (!e->source) return nullptr; // a trace made in memory has no stored roles
    // Read once per trace, as the patching map: the head and head-roles docks both ask.
    auto it = m_rolesCache.find(e->id);
    if (it != m_rolesCache.end()) return it->second;
    std::shared_ptr<const HeadRoles> roles;
    try {
        auto r = readHeadRoles(e->source->reader.path(), e->sourceName);
        if (r) roles = std::make_shared<const HeadRoles>(std::move(*r));
    } catch (const std::exception &) {
    }
    m_rolesCache[e->id] = roles;
    return roles;
}

std::shared_ptr<const LensSite> ProjectDocument::lens(const QString &name, Site site) const
{
    const auto e = entry(name);
    const auto key = std::make_pair(e->id, int(site));
    auto it = m_lensCache.find(key);
    if (it != m_lensCache.end()) return it->second;
    auto l =
        std::make_shared<LensSite>(e->memory ? e->memory->lens[size_t(site)]
                                             : e->source->reader.readLens(e->sourceName, site));
    m_lensCache[key] = l;
    return l;
}

std::shared_ptr<const PatchMap> ProjectDocument::patchMap(const QString &name) const
{
    const auto e = entry(name);
    if (!e->source || !e->source->stillAtPath()) return nullptr;
    auto it = m_patchCache.find(e->id);
    if (it != m_patchCache.end()) return it->second;
    std::optional<PatchMap> m = readPatchMap(e->source->reader.path(), e->sourceName);
    auto p = m ? std::make_shared<const PatchMap>(std::move(*m)) : nullptr;
    m_patchCache[e->id] = p;
    return p;
}

bool ProjectDocument::hasAttention(const QString &name) const
{
    const auto e = entry(name);
    if (e->memory) return e->memory->attentionStore != StoreType::None;
    return trace(name)->attentionStore != StoreType::None;
}

std::shared_ptr<const FloatArray> ProjectDocument::attention(const QString &name, int layer) const
{
    const auto e = entry(name);
    const auto key = std::make_pair(e->id, layer);
    for (auto it = m_attentionCache.begin(); it != m_attentionCache.end(); ++it) {
        if (it->key != key) continue;
        m_attentionCache.splice(m_attentionCache.begin(), m_attentionCache, it);
        return m_attentionCache.front().data;
    }
    if (!hasAttention(name)) return nullptr;
    std::shared_ptr<FloatArray> a;
    if (e->memory) {
        const FloatArray &all = e->memory->attentionPattern; // [L, H, T, T]
        if (layer < 0 || layer >= all.dim(0))
            throw InputError("layer " + std::to_string(layer) + " is out of range");
        a = std::make_shared<FloatArray>(
            std::vector<int64_t>(all.shape.begin() + 1, all.shape.end()));
        std::copy_n(all.data.begin() + layer * int64_t(a->size()), a->size(), a->data.begin());
    } else {
        a = std::make_shared<FloatArray>(e->source->reader.readAttention(e->sourceName, layer));
    }
    m_attentionCache.push_front({key, a});
    m_attentionBytes += a->size() * sizeof(float);
    while (m_attentionBytes > kAttentionCacheBytes && m_attentionCache.size() > 1) {
        m_attentionBytes -= m_attentionCache.back().data->size() * sizeof(float);
        m_attentionCache.pop_back();
    }
    return a;
}

std::shared_ptr<const FloatArray> ProjectDocument::attentionRow(const QString &name, int layer,
                                                                int pos) const
{
    const auto e = entry(name);
    if (!hasAttention(name)) return nullptr;
    const auto key = std::make_pair(e->id, layer);
    const FloatArray *full = nullptr;
    for (const auto &c : m_attentionCache)
        if (c.key == key) full = c.data.get();
    std::shared_ptr<const FloatArray> layerData;
    if (!full && (e->memory || !e->source->stillAtPath())) {
        layerData = attention(name, layer); // no file to read a row from: the whole layer
        full = layerData.get();
    }
    if (full) {
        const int64_t H = full->dim(0), T = full->dim(1);
        if (pos < 0 || pos >= T)
            throw InputError("position " + std::to_string(pos) + " is out of range");
        auto row = std::make_shared<FloatArray>(std::vector<int64_t>{H, T});
        for (int64_t h = 0; h < H; ++h)
            std::copy_n(full->data.begin() + (h * T + pos) * T, T, row->data.begin() + h * T);
        return row;
    }
    return std::make_shared<FloatArray>(
        readAttentionRow(e->source->reader.path(), e->sourceName, layer, pos));
}

Trace ProjectDocument::fullTrace(const QString &name) const
{
    const auto e = entry(name);
    Trace t = e->memory ? *e->memory : e->source->reader.readTraceFull(e->sourceName);
    t.name = e->listing.name;
    t.parent = e->listing.parent;
    return t;
}

void ProjectDocument::clearCache()
{
    m_traceCache.clear();
    m_lensCache.clear();
    m_patchCache.clear();
    m_rolesCache.clear();
    m_attentionCache.clear();
    m_attentionBytes = 0;
}

// ------------------------------------------------------------------------------------ edits

QString ProjectDocument::addTrace(Trace trace)
{
    trace.name = s(uniqueTraceName(q(trace.name)));
    if (!trace.parent.empty() && !hasTrace(q(trace.parent))) trace.parent.clear();
    auto e = std::make_shared<TraceEntry>();
    e->id = m_nextEntryId++;
    e->listing = listingOf(trace);
    e->memory = std::make_shared<const Trace>(std::move(trace));
    const QString name = q(e->listing.name);
    m_undoStack->push(new AddTrace(this, traceCount(), e));
    return name;
}

QString ProjectDocument::importTrace(const QString &path, const QString &traceName,
                                     const QString &newName, QString *error)
{
    try {
        auto source = std::make_shared<SourceFile>(s(path));
        if (!source->reader.hasTrace(s(traceName)))
            throw InputError(s(path) + ": there is no trace '" + s(traceName) + "'");
        source->reader.readTrace(s(traceName)); // refuse a damaged trace now, not later
        auto e = std::make_shared<TraceEntry>();
        e->id = m_nextEntryId++;
        for (const TraceListing &l : source->reader.info().traces)
            if (l.name == s(traceName)) e->listing = l;
        e->listing.name = s(uniqueTraceName(newName.isEmpty() ? traceName : newName));
        if (!e->listing.parent.empty() && !hasTrace(q(e->listing.parent)))
            e->listing.parent.clear();
        e->source = std::move(source);
        e->sourceName = s(traceName);
        const QString name = q(e->listing.name);
        m_undoStack->push(new AddTrace(this, traceCount(), e));
        return name;
    } catch (const std::exception &ex) {
        if (error) *error = q(ex.what());
        return QString();
    }
}

bool ProjectDocument::renameTrace(const QString &from, const QString &to, QString *error)
{
    auto fail = [&](const QString &msg) {
        if (error) *error = msg;
        return false;
    };
    if (!hasTrace(from)) return fail(tr("There is no trace '%1'.").arg(from));
    if (from == to) return true;
    if (const std::string problem = traceNameProblem(s(to)); !problem.empty())
        return fail(tr("'%1' cannot be used: %2.").arg(to, q(problem)));
    if (hasTrace(to)) return fail(tr("There is already a trace named '%1'.").arg(to));
    m_undoStack->push(new RenameTrace(this, entry(from), s(to)));
    return true;
}

bool ProjectDocument::setHeadRoles(const QStringList &traces, const HeadRoles &roles,
                                   QString *error)
{
    std::vector<std::shared_ptr<TraceEntry>> entries;
    for (const QString &name : traces) {
        if (!hasTrace(name)) {
            if (error) *error = tr("There is no trace '%1'.").arg(name);
            return false;
        }
        auto e = entry(name);
        if (e->listing.nLayers != roles.nLayers || e->listing.nHeads != roles.nHeads) {
            if (error)
                *error = tr("Trace %1 has %2 layers of %3 heads; the head roles are of a model "
                            "with %4 layers of %5 heads.")
                             .arg(name)
                             .arg(e->listing.nLayers)
                             .arg(e->listing.nHeads)
                             .arg(roles.nLayers)
                             .arg(roles.nHeads);
            return false;
        }
        entries.push_back(std::move(e));
    }
    if (entries.empty()) return true;
    m_undoStack->push(
        new SetHeadRoles(this, std::move(entries), std::make_shared<const HeadRoles>(roles)));
    return true;
}

bool ProjectDocument::removeTrace(const QString &name)
{
    const int i = indexOf(name);
    if (i < 0) return false;
    m_undoStack->push(new RemoveTrace(this, i));
    return true;
}

void ProjectDocument::setNotes(const QString &notes)
{
    if (notes == m_notes) return;
    m_undoStack->push(new ChangeNotes(this, notes));
}

void ProjectDocument::setViewSettings(const QJsonObject &settings)
{
    if (settings == m_viewSettings) return;
    m_undoStack->push(new ChangeViewSettings(this, settings));
}

void ProjectDocument::setViewSetting(const QString &key, const QJsonValue &value)
{
    if (m_viewSettings.value(key) == value) return;
    QJsonObject settings = m_viewSettings;
    settings.insert(key, value);
    m_undoStack->push(new ChangeViewSettings(this, settings, key));
}

QString ProjectDocument::scratchPath(const QString &fileName) const
{
    if (!m_scratch) m_scratch = std::make_unique<QTemporaryDir>(RecoveryManager::scratchTemplate());
    return m_scratch->filePath(fileName);
}

// ------------------------------------------------------------------- raw changes (commands)

void ProjectDocument::insertEntry(int index, const std::shared_ptr<TraceEntry> &e)
{
    index = std::clamp(index, 0, traceCount());
    m_entries.insert(m_entries.begin() + index, e);
    Q_EMIT changed(ChangeEvent(ChangeEvent::Type::TraceAdded, q(e->listing.name), index));
}

std::shared_ptr<TraceEntry> ProjectDocument::takeEntry(int index)
{
    auto e = m_entries.at(size_t(index));
    m_entries.erase(m_entries.begin() + index);
    Q_EMIT changed(ChangeEvent(ChangeEvent::Type::TraceRemoved, q(e->listing.name), index));
    return e;
}

void ProjectDocument::renameEntry(const std::shared_ptr<TraceEntry> &e, const std::string &to)
{
    const QString old = q(e->listing.name);
    e->listing.name = to;
    for (const auto &[id, t] : m_traceCache) { // cached copies follow the names
        for (const auto &other : m_entries)
            if (other->id == id) {
                t->name = other->listing.name;
                t->parent = other->listing.parent;
            }
    }
    Q_EMIT changed(ChangeEvent(ChangeEvent::Type::TraceRenamed, q(to), indexOf(q(to)), old));
}

void ProjectDocument::applyHeadRoles(const std::shared_ptr<TraceEntry> &e,
                                     const std::shared_ptr<const HeadRoles> &roles)
{
    e->roles = roles;
    m_rolesCache.erase(e->id);
    Q_EMIT changed(ChangeEvent(ChangeEvent::Type::ResultsChanged, q(e->listing.name),
                               indexOf(q(e->listing.name))));
}

void ProjectDocument::applyNotes(const QString &notes)
{
    m_notes = notes;
    Q_EMIT changed(ChangeEvent(ChangeEvent::Type::NotesChanged));
}

void ProjectDocument::applyViewSettings(const QJsonObject &settings)
{
    m_viewSettings = settings;
    Q_EMIT changed(ChangeEvent(ChangeEvent::Type::ViewSettingsChanged));
    m_view->apply(settings);
}

} // namespace HeadLens
