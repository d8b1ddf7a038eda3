#include "hftokenizer.h"

#include "tokenoffsets.h"
#include "unicodetext.h"

#include "headlens/trace/error.h"
#include "headlens/trace/inputfile.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <functional>
#include <queue>
#include <sstream>
#include <unordered_map>

namespace HeadLens {

namespace {

using json = nlohmann::json;

[[noreturn]] void unsupported(const std::string &where, const std::string &what)
{
    throw InputError(where + ": " + what + " is not supported");
}

std::string readWhole(const std::string &path, const char *what)
{
    return readInputFile(path, what, kMaxTextInputBytes);
}

std::string typeOf(const json &j)
{
    if (j.is_object()) {
        const auto it = j.find("type");
        if (it != j.end() && it->is_string()) return it->get<std::string>();
    }
    return "without a type";
}

// A string field, or the fallback when it is absent or null.
std::string stringOr(const json &j, const char *key, const std::string &fallback)
{
    const auto it = j.find(key);
    if (it == j.end() || it->is_null()) return fallback;
    return it->get<std::string>();
}

bool boolOr(const json &j, const char *key, bool fallback)
{
    const auto it = j.find(key);
    if (it == j.end() || it->is_null()) return fallback;
    return it->get<bool>();
}

// The characters of s, one string each (a byte that is not UTF-8 on its own).
std::vector<std::string> characters(const std::string &s)
{
    std::vector<std::string> out;
    for (size_t i = 0; i < s.size();) {
        const size_t n = std::max<size_t>(1, Unicode::sequenceLength(s, i));
        out.push_back(s.substr(i, n));
        i += n;
    }
    return out;
}

char32_t firstCodePoint(const std::string &s)
{
    if (s.empty()) return Unicode::kInvalid;
    size_t n;
    return Unicode::decodeAt(s, 0, &n);
}

bool isWordCharacter(char32_t c)
{
    return c != Unicode::kInvalid && (Unicode::isLetter(c) || Unicode::isNumber(c) || c == '_');
}

std::string replaceAll(const std::string &s, const std::string &from, const std::string &to)
{
    if (from.empty()) return s;
    std::string out;
    size_t i = 0;
    for (size_t k; (k = s.find(from, i)) != std::string::npos; i = k + from.size()) {
        out.append(s, i, k - i);
        out += to;
    }
    out.append(s, i, std::string::npos);
    return out;
}

uint64_t pairKey(int32_t a, int32_t b)
{
    return (uint64_t(uint32_t(a)) << 32) | uint32_t(b);
}

constexpr int32_t kMaxId = 1 << 24;

} // namespace

// ---------------------------------------------------------------------------------- loading

std::unique_ptr<HfTokenizer> HfTokenizer::loadJson(const std::string &path, const Options &options)
{
    return fromJson(readWhole(path, "tokenizer.json"), path, options);
}

void HfTokenizer::addPiece(int32_t id, const std::string &piece)
{
    if (id < 0 || id >= kMaxId)
        throw InputError(m_where + ": the token '" + piece + "' has the id " + std::to_string(id) +
                         ", outside 0.." + std::to_string(kMaxId - 1));
    if (size_t(id) >= m_pieces.size()) {
        m_pieces.resize(size_t(id) + 1);
        m_hasPiece.resize(size_t(id) + 1, false);
    }
    m_pieces[size_t(id)] = piece;
    m_hasPiece[size_t(id)] = true;
}

std::unique_ptr<HfTokenizer> HfTokenizer::fromJson(const std::string &text, const std::string &path,
                                                   const Options &options)
{
    const std::string where = "tokenizer.json (" + path + ")";
    json j;
    try {
        j = json::parse(text);
    } catch (const json::exception &e) {
        throw InputError(where + " is not valid JSON: " + e.what());
    }
    if (!j.is_object()) throw InputError(where + " does not hold a JSON object");
    std::unique_ptr<HfTokenizer> t(new HfTokenizer);
    t->m_where = where;
    try {
        const auto mit = j.find("model");
        if (mit == j.end() || !mit->is_object())
            throw InputError(where + " has no \"model\"; it is not a Hugging Face tokenizer.json");
        const json &model = *mit;
        std::string type = stringOr(model, "type", "");
        if (type.empty() && model.contains("merges")) type = "BPE";
        if (type != "BPE") unsupported(where, "model type " + (type.empty() ? "(none)" : type));
        if (!stringOr(model, "continuing_subword_prefix", "").empty())
            unsupported(where, "BPE with a continuing_subword_prefix");
        if (!stringOr(model, "end_of_word_suffix", "").empty())
            unsupported(where, "BPE with an end_of_word_suffix");
        if (model.contains("dropout") && !model["dropout"].is_null() &&
            model["dropout"].get<double>() > 0)
            unsupported(where, "BPE dropout");
        t->m_unkToken = stringOr(model, "unk_token", "");
        t->m_fuseUnk = boolOr(model, "fuse_unk", false);
        t->m_byteFallback = boolOr(model, "byte_fallback", false);
        t->m_ignoreMerges = boolOr(model, "ignore_merges", false);
        const json &vocab = model.at("vocab");
        if (!vocab.is_object()) throw InputError(where + ": the model's vocab is not an object");
        for (auto it = vocab.begin(); it != vocab.end(); ++it) {
            const int64_t id = it.value().get<int64_t>();
            if (id < 0 || id >= kMaxId)
                throw InputError(where + ": the token '" + it.key() + "' has the id " +
                                 std::to_string(id));
            t->addPiece(int32_t(id), it.key());
            t->m_vocab[it.key()] = int32_t(id);
        }
        const json &merges = model.at("merges");
        if (!merges.is_array()) throw InputError(where + ": the model's merges is not an array");
        int32_t rank = 0;
        for (const json &m : merges) {
            std::string a, b;
            if (m.is_string()) {
                const std::string s = m.get<std::string>();
                const size_t sp = s.find(' ');
                if (sp == std::string::npos || s.find(' ', sp + 1) != std::string::npos)
                    throw InputError(where + ": merge " + std::to_string(rank) + " ('" + s +
                                     "') is not two tokens separated by one space");
                a = s.substr(0, sp);
                b = s.substr(sp + 1);
            } else if (m.is_array() && m.size() == 2) {
                a = m[0].get<std::string>();
                b = m[1].get<std::string>();
            } else {
                throw InputError(where + ": merge " + std::to_string(rank) +
                                 " is neither \"a b\" nor [a, b]");
            }
            const auto ia = t->m_vocab.find(a), ib = t->m_vocab.find(b),
                       iab = t->m_vocab.find(a + b);
            if (ia == t->m_vocab.end() || ib == t->m_vocab.end() || iab == t->m_vocab.end())
                throw InputError(where + ": merge " + std::to_string(rank) + " ('" + a + "' '" + b +
                                 "') names a token that is not in the vocabulary");
            t->m_merges[pairKey(ia->second, ib->second)] = {rank, iab->second};
            ++rank;
        }

        if (j.contains("added_tokens") && !j["added_tokens"].is_null()) {
            for (const json &a : j.at("added_tokens")) {
                AddedToken tok;
                tok.id = a.at("id").get<int32_t>();
                tok.content = a.at("content").get<std::string>();
                tok.special = boolOr(a, "special", false);
                tok.lstrip = boolOr(a, "lstrip", false);
                tok.rstrip = boolOr(a, "rstrip", false);
                tok.singleWord = boolOr(a, "single_word", false);
                tok.normalized = boolOr(a, "normalized", !tok.special);
                if (tok.content.empty())
                    throw InputError(where + ": added token " + std::to_string(tok.id) +
                                     " is empty");
                t->addPiece(tok.id, tok.content);
                t->m_addedById[tok.id] = t->m_added.size();
                t->m_added.push_back(std::move(tok));
            }
        }

        // Normalizer, pre-tokenizer, post-processor, decoder: flattened into lists of steps.
        std::function<void(const json &)> normalizer = [&](const json &n) {
            if (n.is_null()) return;
            const std::string ty = typeOf(n);
            if (ty == "Sequence") {
                for (const json &s : n.at("normalizers"))
                    normalizer(s);
            } else if (ty == "Prepend") {
                t->m_normalizer.push_back({NormalizerStep::Prepend, n.at("prepend"), ""});
            } else if (ty == "Replace") {
                const json &p = n.at("pattern");
                if (!p.contains("String"))
                    unsupported(where, "normalizer Replace with the regex " + p.dump());
                t->m_normalizer.push_back(
                    {NormalizerStep::Replace, p.at("String"), n.at("content")});
                if (p.at("String") == " ") t->m_metaspace = n.at("content").get<std::string>();
            } else {
                unsupported(where, "normalizer " + ty);
            }
        };
        std::function<void(const json &)> preTokenizer = [&](const json &p) {
            if (p.is_null()) return;
            const std::string ty = typeOf(p);
            PreTokenizerStep step;
            if (ty == "Sequence") {
                for (const json &s : p.at("pretokenizers"))
                    preTokenizer(s);
                return;
            } else if (ty == "ByteLevel") {
                step.type = PreTokenizerStep::ByteLevel;
                step.addPrefixSpace = boolOr(p, "add_prefix_space", true);
                step.useRegex = boolOr(p, "use_regex", true);
                t->m_byteLevel = true;
            } else if (ty == "Split") {
                step.type = PreTokenizerStep::Split;
                const json &pat = p.at("pattern");
                if (!pat.contains("Regex"))
                    unsupported(where, "pre-tokenizer Split with the pattern " + pat.dump());
                const auto re = recogniseSplitRegex(pat.at("Regex").get<std::string>());
                if (!re)
                    unsupported(where, "pre-tokenizer Split with the regex " +
                                           pat.at("Regex").dump() +
                                           " (only those of GPT-2, Llama 3 and Qwen 2 are)");
                step.regex = *re;
                const std::string behavior = stringOr(p, "behavior", "Isolated");
                if (behavior != "Isolated")
                    unsupported(where, "pre-tokenizer Split with the behavior " + behavior);
                if (boolOr(p, "invert", false))
                    unsupported(where, "pre-tokenizer Split with invert");
            } else if (ty == "Metaspace") {
                step.type = PreTokenizerStep::Metaspace;
                step.replacement = stringOr(p, "replacement", "\xe2\x96\x81");
                if (characters(step.replacement).size() != 1)
                    throw InputError(where + ": the Metaspace replacement '" + step.replacement +
                                     "' is not one character");
                const std::string scheme = stringOr(p, "prepend_scheme", "");
                if (scheme.empty())
                    step.prepend = boolOr(p, "add_prefix_space", true) ? PreTokenizerStep::Always
                                                                       : PreTokenizerStep::Never;
                else if (scheme == "always")
                    step.prepend = PreTokenizerStep::Always;
                else if (scheme == "first")
                    step.prepend = PreTokenizerStep::First;
                else if (scheme == "never")
                    step.prepend = PreTokenizerStep::Never;
                else
                    unsupported(where, "pre-tokenizer Metaspace with the prepend_scheme " + scheme);
                step.split = boolOr(p, "split", true);
                t->m_metaspace = step.replacement;
            } else {
                unsupported(where, "pre-tokenizer " + ty);
            }
            t->m_preTokenizer.push_back(step);
        };
        std::function<void(const json &)> postProcessor = [&](const json &p) {
            if (p.is_null()) return;
            const std::string ty = typeOf(p);
            if (ty == "Sequence") {
                for (const json &s : p.at("processors"))
                    postProcessor(s);
            } else if (ty == "ByteLevel") {
                // Only trims offsets; ours are given by the characters.
            } else if (ty == "TemplateProcessing") {
                const json &specials = p.at("special_tokens");
                bool seenA = false;
                for (const json &item : p.at("single")) {
                    if (item.contains("Sequence")) {
                        seenA = true;
                    } else if (item.contains("SpecialToken")) {
                        const std::string name = item["SpecialToken"].at("id");
                        if (!specials.contains(name))
                            throw InputError(where + ": the template names the special token '" +
                                             name + "', which special_tokens lacks");
                        for (const json &id : specials[name].at("ids"))
                            (seenA ? t->m_suffix : t->m_prefix).push_back(id.get<int32_t>());
                    } else {
                        throw InputError(where + ": the post-processor's template has the item " +
                                         item.dump());
                    }
                }
            } else if (ty == "RobertaProcessing" || ty == "BertProcessing") {
                t->m_prefix.push_back(p.at("cls").at(1).get<int32_t>());
                t->m_suffix.push_back(p.at("sep").at(1).get<int32_t>());
            } else {
                unsupported(where, "post-processor " + ty);
            }
        };
        std::function<void(const json &)> decoder = [&](const json &d) {
            if (d.is_null()) return;
            t->m_hasDecoder = true;
            const std::string ty = typeOf(d);
            DecoderStep step;
            if (ty == "Sequence") {
                for (const json &s : d.at("decoders"))
                    decoder(s);
                return;
            } else if (ty == "ByteLevel") {
                step.type = DecoderStep::ByteLevel;
                t->m_byteLevel = true;
            } else if (ty == "Metaspace") {
                step.type = DecoderStep::Metaspace;
                step.a = stringOr(d, "replacement", "\xe2\x96\x81");
                const std::string scheme = stringOr(d, "prepend_scheme", "");
                step.prependFirst =
                    scheme.empty() ? boolOr(d, "add_prefix_space", true) : scheme != "never";
            } else if (ty == "Replace") {
                step.type = DecoderStep::Replace;
                const json &pat = d.at("pattern");
                if (!pat.contains("String"))
                    unsupported(where, "decoder Replace with the regex " + pat.dump());
                step.a = pat.at("String");
                step.b = d.at("content");
            } else if (ty == "ByteFallback") {
                step.type = DecoderStep::ByteFallback;
            } else if (ty == "Fuse") {
                step.type = DecoderStep::Fuse;
            } else if (ty == "Strip") {
                step.type = DecoderStep::Strip;
                step.a = d.at("content");
                step.start = d.value("start", 0);
                step.stop = d.value("stop", 0);
            } else {
                unsupported(where, "decoder " + ty);
            }
            t->m_decoder.push_back(step);
        };
        normalizer(j.value("normalizer", json()));
        preTokenizer(j.value("pre_tokenizer", json()));
        postProcessor(j.value("post_processor", json()));
        decoder(j.value("decoder", json()));
    } catch (const json::exception &e) {
        throw InputError(where + " is damaged: " + e.what());
    }
    t->m_kind = t->m_byteLevel ? "hf-bytelevel-bpe" : "hf-bpe";
    t->finish(options, where);
    return t;
}

std::unique_ptr<HfTokenizer> HfTokenizer::loadVocabMerges(const std::string &vocabPath,
                                                          const std::string &mergesPath,
                                                          const Options &options)
{
    const std::string where = "GPT-2 vocab.json (" + vocabPath + ")";
    std::unique_ptr<HfTokenizer> t(new HfTokenizer);
    t->m_where = where;
    json vocab;
    try {
        vocab = json::parse(readWhole(vocabPath, "vocab.json"));
    } catch (const json::exception &e) {
        throw InputError(where + " is not valid JSON: " + e.what());
    }
    if (!vocab.is_object()) throw InputError(where + " does not hold a JSON object");
    try {
        std::unordered_map<int64_t, std::string> byId; // two tokens of one id: a damaged file
        for (auto it = vocab.begin(); it != vocab.end(); ++it) {
            const int64_t id = it.value().get<int64_t>();
            if (id < 0 || id >= kMaxId)
                throw InputError(where + ": the token '" + it.key().substr(0, 40) +
                                 "' has the id " + std::to_string(id));
            if (const auto [seen, fresh] = byId.emplace(id, it.key()); !fresh)
                throw InputError(where + ": the tokens '" + seen->second.substr(0, 40) + "' and '" +
                                 it.key().substr(0, 40) + "' have the same id " +
                                 std::to_string(id));
            t->addPiece(int32_t(id), it.key());
            t->m_vocab[it.key()] = int32_t(id);
        }
    } catch (const json::exception &e) {
        throw InputError(where + " is damaged: " + e.what());
    }
    // merges.txt: "#version: 0.2" then one "a b" per line, in rank order.
    std::istringstream lines(readWhole(mergesPath, "merges.txt"));
    std::string line;
    int32_t rank = 0, lineNo = 0;
    while (std::getline(lines, line)) {
        ++lineNo;
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.empty() || line.rfind("#version", 0) == 0) continue;
        const size_t sp = line.find(' ');
        if (sp == std::string::npos || line.find(' ', sp + 1) != std::string::npos)
            throw InputError("GPT-2 merges.txt (" + mergesPath + "): line " +
                             std::to_string(lineNo) + " is not two tokens separated by a space");
        const std::string a = line.substr(0, sp), b = line.substr(sp + 1);
        const auto ia = t->m_vocab.find(a), ib = t->m_vocab.find(b), iab = t->m_vocab.find(a + b);
        if (ia == t->m_vocab.end() || ib == t->m_vocab.end() || iab == t->m_vocab.end())
            throw InputError("GPT-2 merges.txt (" + mergesPath + "): line " +
                             std::to_string(lineNo) + " ('" + line +
                             "') names a token that is not in vocab.json");
        t->m_merges[pairKey(ia->second, ib->second)] = {rank++, iab->second};
    }
    PreTokenizerStep byteLevel;
    byteLevel.type = PreTokenizerStep::ByteLevel;
    byteLevel.addPrefixSpace = false;
    t->m_preTokenizer.push_back(byteLevel);
    t->m_decoder.push_back({DecoderStep::ByteLevel, "", "", true, 0, 0});
    t->m_hasDecoder = true;
    t->m_byteLevel = true;
    const auto eot = t->m_vocab.find("<|endoftext|>");
    if (eot != t->m_vocab.end()) {
        AddedToken tok;
        tok.id = eot->second;
        tok.content = eot->first;
        tok.special = true;
        t->m_addedById[tok.id] = 0;
        t->m_added.push_back(tok);
    }
    t->m_kind = "gpt2-bpe";
    t->finish(options, where);
    return t;
}

void HfTokenizer::finish(const Options &options, const std::string &where)
{
    if (m_pieces.empty()) throw InputError(where + " holds no tokens");
    // GPT-2's byte-to-unicode table: printable bytes stand for themselves, the others for
    // U+0100 onwards in byte order.
    int n = 0;
    for (int b = 0; b < 256; ++b) {
        const bool printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || b >= 174;
        m_byteToChar[size_t(b)] = printable ? char32_t(b) : char32_t(256 + n++);
        m_charToByte[m_byteToChar[size_t(b)]] = uint8_t(b);
    }
    for (int b = 0; b < 256; ++b) {
        const auto it = m_vocab.find(Unicode::bytePiece(unsigned(b)));
        m_byteFallbackIds[size_t(b)] = it == m_vocab.end() ? -1 : it->second;
    }
    auto lookup = [&](const std::string &name) -> int32_t {
        for (const AddedToken &a : m_added)
            if (a.content == name) return a.id;
        const auto it = m_vocab.find(name);
        return it == m_vocab.end() ? -1 : it->second;
    };
    auto addedSpecial = [&](std::initializer_list<const char *> names) -> int32_t {
        for (const char *name : names)
            for (const AddedToken &a : m_added)
                if (a.special && a.content == name) return a.id;
        return -1;
    };
    m_bosId = options.bosToken.empty() ? -1 : lookup(options.bosToken);
    if (m_bosId < 0 && !m_prefix.empty()) m_bosId = m_prefix.front();
    if (m_bosId < 0) m_bosId = addedSpecial({"<|begin_of_text|>", "<s>", "<bos>", "<|endoftext|>"});
    m_eosId = options.eosToken.empty() ? -1 : lookup(options.eosToken);
    if (m_eosId < 0 && !m_suffix.empty()) m_eosId = m_suffix.back();
    if (m_eosId < 0) m_eosId = addedSpecial({"<|end_of_text|>", "</s>", "<eos>", "<|endoftext|>"});
    // transformers rebuilds the template of Llama-style tokenizers from add_bos_token and
    // add_eos_token when tokenizer_config.json sets them.
    if (options.hasAddBos)
        m_prefix =
            options.addBos && m_bosId >= 0 ? std::vector<int32_t>{m_bosId} : std::vector<int32_t>{};
    if (options.hasAddEos)
        m_suffix =
            options.addEos && m_eosId >= 0 ? std::vector<int32_t>{m_eosId} : std::vector<int32_t>{};
    for (const std::vector<int32_t> *ids : {&m_prefix, &m_suffix})
        for (int32_t id : *ids)
            if (id < 0 || id >= vocabSize() || !m_hasPiece[size_t(id)])
                throw InputError(where + ": the post-processor adds the token id " +
                                 std::to_string(id) + ", which is not in the vocabulary");
}

// ---------------------------------------------------------------------------------- encoding

void HfTokenizer::checkId(int32_t id) const
{
    if (id < 0 || id >= vocabSize())
        throw InputError("token id " + std::to_string(id) + " is outside the vocabulary (0.." +
                         std::to_string(vocabSize() - 1) + ")");
}

int HfTokenizer::byteValue(int32_t id) const
{
    if (!m_byteFallback || id < 0 || id >= vocabSize() || isAddedToken(id)) return -1;
    const int b = Unicode::parseBytePiece(m_pieces[size_t(id)]);
    return b >= 0 && m_byteFallbackIds[size_t(b)] == id ? b : -1;
}

std::vector<HfTokenizer::Segment> HfTokenizer::splitAdded(std::vector<Unit> units,
                                                          bool normalizedTokens) const
{
    std::vector<const AddedToken *> candidates;
    for (const AddedToken &a : m_added)
        if (a.normalized == normalizedTokens) candidates.push_back(&a);
    std::vector<Segment> out;
    if (candidates.empty() || units.empty()) {
        out.emplace_back(-1, std::move(units));
        return out;
    }
    // Longest first, so that the first match at a position is the longest one there.
    std::stable_sort(candidates.begin(), candidates.end(),
                     [](const AddedToken *a, const AddedToken *b) {
                         return a->content.size() > b->content.size();
                     });
    std::string s;
    std::vector<int32_t> unitAt; // per byte of s: the unit starting there, or -1
    for (size_t u = 0; u < units.size(); ++u) {
        unitAt.resize(s.size() + units[u].s.size(), -1);
        unitAt[s.size()] = int32_t(u);
        s += units[u].s;
    }
    unitAt.push_back(int32_t(units.size()));
    std::vector<size_t> startOf(units.size() + 1);
    for (size_t b = 0; b < unitAt.size(); ++b)
        if (unitAt[b] >= 0) startOf[size_t(unitAt[b])] = b;

    auto text = [&](size_t from, size_t to) {
        return std::vector<Unit>(units.begin() + long(from), units.begin() + long(to));
    };
    auto space = [&](size_t u) { return Unicode::isWhiteSpace(firstCodePoint(units[u].s)); };
    size_t done = 0, u = 0;
    while (u < units.size()) {
        const AddedToken *match = nullptr;
        size_t end = 0;
        for (const AddedToken *a : candidates) {
            const size_t b = startOf[u];
            if (s.compare(b, a->content.size(), a->content) == 0 &&
                unitAt[b + a->content.size()] >= 0) {
                match = a;
                end = size_t(unitAt[b + a->content.size()]);
                break;
            }
        }
        if (!match) {
            ++u;
            continue;
        }
        if (match->singleWord) {
            const bool before = u > 0 && isWordCharacter(firstCodePoint(units[u - 1].s));
            const bool after = end < units.size() && isWordCharacter(firstCodePoint(units[end].s));
            if (before || after) {
                u = end;
                continue;
            }
        }
        size_t from = u;
        if (match->lstrip)
            while (from > done && space(from - 1))
                --from;
        if (match->rstrip)
            while (end < units.size() && space(end))
                ++end;
        if (done < from) out.emplace_back(-1, text(done, from));
        out.emplace_back(match->id, text(from, end));
        done = u = end;
    }
    if (done < units.size()) out.emplace_back(-1, text(done, units.size()));
    return out;
}

std::vector<HfTokenizer::Unit> HfTokenizer::normalize(std::vector<Unit> units) const
{
    for (const NormalizerStep &step : m_normalizer) {
        if (units.empty()) break;
        if (step.type == NormalizerStep::Prepend) {
            std::vector<Unit> out;
            const int32_t at = units.front().begin;
            for (const std::string &c : characters(step.a))
                out.push_back({c, at, at});
            out.insert(out.end(), units.begin(), units.end());
            units = std::move(out);
        } else {
            // Non-overlapping occurrences of step.a, left to right, on whole characters.
            const std::vector<std::string> from = characters(step.a), to = characters(step.b);
            std::vector<Unit> out;
            for (size_t u = 0; u < units.size();) {
                bool hit = !from.empty() && u + from.size() <= units.size();
                for (size_t k = 0; hit && k < from.size(); ++k)
                    hit = units[u + k].s == from[k];
                if (!hit) {
                    out.push_back(units[u++]);
                    continue;
                }
                const int32_t b = units[u].begin, e = units[u + from.size() - 1].end;
                for (size_t k = 0; k < to.size(); ++k)
                    out.push_back({to[k], k == 0 ? b : e, e});
                u += from.size();
            }
            units = std::move(out);
        }
    }
    return units;
}

std::vector<std::vector<HfTokenizer::Unit>> HfTokenizer::preTokenize(std::vector<Unit> units) const
{
    std::vector<std::vector<Unit>> pieces;
    pieces.push_back(std::move(units));
    auto splitAt = [](const std::vector<Unit> &piece, const std::vector<size_t> &ends,
                      std::vector<std::vector<Unit>> &out) {
        size_t from = 0;
        for (size_t e : ends) {
            if (e > from) out.emplace_back(piece.begin() + long(from), piece.begin() + long(e));
            from = e;
        }
    };
    auto regexSplit = [&](const std::vector<Unit> &piece, SplitRegex re,
                          std::vector<std::vector<Unit>> &out) {
        std::vector<char32_t> cps;
        cps.reserve(piece.size());
        for (const Unit &u : piece)
            cps.push_back(firstCodePoint(u.s));
        splitAt(piece, splitByRegex(cps, re), out);
    };
    for (const PreTokenizerStep &step : m_preTokenizer) {
        std::vector<std::vector<Unit>> next;
        for (std::vector<Unit> &piece : pieces) {
            if (piece.empty()) continue;
            switch (step.type) {
            case PreTokenizerStep::Split:
                regexSplit(piece, step.regex, next);
                break;
            case PreTokenizerStep::ByteLevel: {
                if (step.addPrefixSpace && piece.front().s != " ")
                    piece.insert(piece.begin(),
                                 Unit{" ", piece.front().begin, piece.front().begin});
                std::vector<std::vector<Unit>> parts;
                if (step.useRegex)
                    regexSplit(piece, SplitRegex::Gpt2, parts);
                else
                    parts.push_back(std::move(piece));
                for (const std::vector<Unit> &part : parts) {
                    std::vector<Unit> bytes;
                    for (const Unit &u : part)
                        for (char c : u.s)
                            bytes.push_back(
                                {Unicode::toUtf8(m_byteToChar[static_cast<unsigned char>(c)]),
                                 u.begin, u.end});
                    next.push_back(std::move(bytes));
                }
                break;
            }
            case PreTokenizerStep::Metaspace: {
                for (Unit &u : piece)
                    if (u.s == " ") u.s = step.replacement;
                const bool prepend =
                    step.prepend == PreTokenizerStep::Always ||
                    (step.prepend == PreTokenizerStep::First && piece.front().begin == 0);
                if (prepend && piece.front().s != step.replacement)
                    piece.insert(piece.begin(),
                                 Unit{step.replacement, piece.front().begin, piece.front().begin});
                if (!step.split) {
                    next.push_back(std::move(piece));
                    break;
                }
                std::vector<size_t> ends; // each replacement starts a piece (MergedWithNext)
                for (size_t k = 1; k < piece.size(); ++k)
                    if (piece[k].s == step.replacement) ends.push_back(k);
                ends.push_back(piece.size());
                splitAt(piece, ends, next);
                break;
            }
            }
        }
        pieces = std::move(next);
    }
    return pieces;
}

void HfTokenizer::bpe(const std::vector<Unit> &word, std::vector<TokenInfo> &out) const
{
    if (word.empty()) return;
    if (m_ignoreMerges) {
        std::string whole;
        for (const Unit &u : word)
            whole += u.s;
        const auto it = m_vocab.find(whole);
        if (it != m_vocab.end()) {
            out.push_back(
                {it->second, displayText(it->second), word.front().begin, word.back().end});
            return;
        }
    }
    // The tokenizers library's Word: symbols in a linked list; a removed symbol has len 0.
    struct Symbol {
        int32_t id;
        int32_t begin, end;
        int prev, next;
        size_t len;
    };
    std::vector<Symbol> symbols;
    auto add = [&](int32_t id, int32_t b, int32_t e, size_t len) {
        const int i = int(symbols.size());
        if (i > 0) symbols.back().next = i;
        symbols.push_back({id, b, e, i - 1, -1, len});
    };
    bool pendingUnk = false;
    Symbol unk{};
    for (const Unit &u : word) {
        const auto it = m_vocab.find(u.s);
        if (it != m_vocab.end()) {
            if (pendingUnk) add(unk.id, unk.begin, unk.end, unk.len);
            pendingUnk = false;
            add(it->second, u.begin, u.end, u.s.size());
            continue;
        }
        if (m_byteFallback) {
            bool all = true;
            for (char c : u.s)
                all = all && m_byteFallbackIds[static_cast<unsigned char>(c)] >= 0;
            if (all) {
                for (char c : u.s)
                    add(m_byteFallbackIds[static_cast<unsigned char>(c)], u.begin, u.end, 1);
                continue;
            }
        }
        if (m_unkToken.empty())
            throw InputError(m_where + ": the character '" + Unicode::readableBytes(u.s) +
                             "' is not in the vocabulary, and the tokenizer has neither "
                             "byte_fallback nor an unk_token");
        const auto unkIt = m_vocab.find(m_unkToken);
        if (unkIt == m_vocab.end())
            throw InputError(m_where + ": the unk_token '" + m_unkToken +
                             "' is not in the vocabulary");
        if (pendingUnk && m_fuseUnk) {
            unk.end = std::max(unk.end, u.end);
            unk.len += u.s.size();
        } else {
            if (pendingUnk) add(unk.id, unk.begin, unk.end, unk.len);
            unk = {unkIt->second, u.begin, u.end, 0, 0, u.s.size()};
            pendingUnk = true;
        }
    }
    if (pendingUnk) add(unk.id, unk.begin, unk.end, unk.len);

    // Merges by rank, the leftmost on equal ranks; stale entries are recognised by the pair
    // at their position no longer making the same token.
    struct Merge {
        int32_t rank;
        int pos;
        int32_t id;
    };
    auto later = [](const Merge &a, const Merge &b) {
        return a.rank != b.rank ? a.rank > b.rank : a.pos > b.pos;
    };
    std::priority_queue<Merge, std::vector<Merge>, decltype(later)> queue(later);
    auto find = [&](int32_t a, int32_t b) -> const std::pair<int32_t, int32_t> * {
        const auto it = m_merges.find(pairKey(a, b));
        return it == m_merges.end() ? nullptr : &it->second;
    };
    for (size_t i = 0; i + 1 < symbols.size(); ++i)
        if (const auto *m = find(symbols[i].id, symbols[i + 1].id))
            queue.push({m->first, int(i), m->second});
    while (!queue.empty()) {
        const Merge top = queue.top();
        queue.pop();
        Symbol &cur = symbols[size_t(top.pos)];
        if (cur.len == 0 || cur.next == -1) continue;
        const int nextPos = cur.next;
        const Symbol right = symbols[size_t(nextPos)];
        const auto *m = find(cur.id, right.id);
        if (!m || m->second != top.id) continue;
        cur.id = top.id;
        cur.len += right.len;
        cur.begin = std::min(cur.begin, right.begin);
        cur.end = std::max(cur.end, right.end);
        cur.next = right.next;
        symbols[size_t(nextPos)].len = 0;
        if (right.next > -1) symbols[size_t(right.next)].prev = top.pos;
        if (cur.prev >= 0)
            if (const auto *pm = find(symbols[size_t(cur.prev)].id, cur.id))
                queue.push({pm->first, cur.prev, pm->second});
        if (cur.next >= 0)
            if (const auto *nm = find(cur.id, symbols[size_t(cur.next)].id))
                queue.push({nm->first, top.pos, nm->second});
    }
    for (const Symbol &s : symbols)
        if (s.len != 0) out.push_back({s.id, displayText(s.id), s.begin, s.end});
}

std::vector<TokenInfo> HfTokenizer::encode(const std::string &text, bool addBos) const
{
    std::vector<TokenInfo> out;
    if (addBos)
        for (int32_t id : m_prefix)
            out.push_back({id, displayText(id), -1, -1});
    std::vector<Unit> units;
    int32_t c = 0;
    for (const std::string &ch : characters(text)) {
        units.push_back({ch, c, c + 1});
        ++c;
    }
    auto addSpecial = [&](const Segment &seg) {
        out.push_back(
            {seg.first, displayText(seg.first), seg.second.front().begin, seg.second.back().end});
    };
    for (Segment &seg : splitAdded(std::move(units), false)) {
        if (seg.first >= 0) {
            addSpecial(seg);
            continue;
        }
        for (Segment &sub : splitAdded(normalize(std::move(seg.second)), true)) {
            if (sub.first >= 0) {
                addSpecial(sub);
                continue;
            }
            for (const std::vector<Unit> &word : preTokenize(std::move(sub.second)))
                bpe(word, out);
        }
    }
    tileOffsets(out, c);
    if (addBos)
        for (int32_t id : m_suffix)
            out.push_back({id, displayText(id), -1, -1});
    return out;
}

// ---------------------------------------------------------------------------------- decoding

std::string HfTokenizer::byteLevelDecode(const std::string &token) const
{
    std::string bytes;
    for (size_t i = 0; i < token.size();) {
        size_t n;
        const char32_t cp = Unicode::decodeAt(token, i, &n);
        const auto it = m_charToByte.find(cp);
        if (cp == Unicode::kInvalid || it == m_charToByte.end()) return token; // not byte-level
        bytes += char(it->second);
        i += n;
    }
    return bytes;
}

std::string HfTokenizer::decode(const std::vector<int32_t> &ids) const
{
    std::vector<std::string> tokens;
    for (int32_t id : ids) {
        checkId(id);
        if (id == m_bosId || id == m_eosId) continue;
        tokens.push_back(m_pieces[size_t(id)]);
    }
    if (!m_hasDecoder) {
        std::string out;
        for (size_t i = 0; i < tokens.size(); ++i)
            out += (i ? " " : "") + tokens[i];
        return out;
    }
    for (const DecoderStep &step : m_decoder) {
        std::vector<std::string> next;
        switch (step.type) {
        case DecoderStep::ByteLevel: {
            std::string all;
            for (const std::string &t : tokens)
                all += byteLevelDecode(t);
            next.push_back(all);
            break;
        }
        case DecoderStep::Metaspace:
            for (size_t i = 0; i < tokens.size(); ++i)
                next.push_back(
                    replaceAll(tokens[i], step.a, i == 0 && step.prependFirst ? "" : " "));
            break;
        case DecoderStep::Replace:
            for (const std::string &t : tokens)
                next.push_back(replaceAll(t, step.a, step.b));
            break;
        case DecoderStep::ByteFallback: {
            // Runs of <0xXX> pieces become their bytes. The tokenizers library prints U+FFFD
            // for a run that is not UTF-8; the bytes are kept here so that text survives.
            std::string bytes;
            bool inBytes = false;
            for (const std::string &t : tokens) {
                const int b = Unicode::parseBytePiece(t);
                if (b >= 0) {
                    bytes += char(b);
                    inBytes = true;
                    continue;
                }
                if (inBytes) next.push_back(bytes);
                bytes.clear();
                inBytes = false;
                next.push_back(t);
            }
            if (inBytes) next.push_back(bytes);
            break;
        }
        case DecoderStep::Fuse: {
            std::string all;
            for (const std::string &t : tokens)
                all += t;
            next.push_back(all);
            break;
        }
        case DecoderStep::Strip:
            for (const std::string &t : tokens) {
                const std::vector<std::string> chars = characters(t);
                size_t from = 0, to = chars.size();
                while (from < to && int(from) < step.start && chars[from] == step.a)
                    ++from;
                while (to > from && int(chars.size() - to) < step.stop && chars[to - 1] == step.a)
                    --to;
                std::string s;
                for (size_t k = from; k < to; ++k)
                    s += chars[k];
                next.push_back(s);
            }
            break;
        }
        tokens = std::move(next);
    }
    std::string out;
    for (const std::string &t : tokens)
        out += t;
    return out;
}

std::string HfTokenizer::piece(int32_t id) const
{
    checkId(id);
    return m_pieces[size_t(id)];
}

std::string HfTokenizer::displayText(int32_t id) const
{
    checkId(id);
    if (!m_hasPiece[size_t(id)]) return "[" + std::to_string(id) + "]";
    const std::string &p = m_pieces[size_t(id)];
    if (isAddedToken(id)) return Unicode::readableBytes(p);
    if (m_byteLevel) return Unicode::readableBytes(byteLevelDecode(p));
    const int b = byteValue(id);
    if (b >= 0) {
        if (b == '\n') return "\u21b5";
        if (b == '\t') return "\u21e5";
        return p;
    }
    return Unicode::readableBytes(replaceAll(p, m_metaspace, " "));
}

} // namespace HeadLens
