// Loading of Hugging Face tokenizers: a tokenizer.json with a BPE model, or GPT-2's vocab.json
// and merges.txt. Every part of the pipeline is read into the tokenizer's steps here, and what
// is not supported is refused by name (see hftokenizer.h).

#include "hftokenizer.h"

#include "unicodetext.h"
#include "weightformats.h"

#include "headlens/trace/error.h"
#include "headlens/trace/inputfile.h"

#include <nlohmann/json.hpp>

#include <functional>
#include <sstream>

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

constexpr int32_t kMaxId = 1 << 24;

// A token id as the file gives it: a whole number in 0..kMaxId-1. A float, a string or a huge
// number is a damaged file (and converting it to an integer would be undefined).
int32_t tokenId(const json &v, const std::string &where, const std::string &what)
{
    const std::optional<int64_t> id = jsonInt(v);
    if (!id || *id < 0 || *id >= kMaxId)
        throw InputError(where + ": " + what + " has the id " + v.dump().substr(0, 40) +
                         ", not a whole number in 0.." + std::to_string(kMaxId - 1));
    return int32_t(*id);
}

} // namespace

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
            const int32_t id =
                tokenId(it.value(), where, "the token '" + it.key().substr(0, 40) + "'");
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
                tok.id = tokenId(a.at("id"), where, "an added token");
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
                if (Unicode::characters(step.replacement).size() != 1)
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
                            (seenA ? t->m_suffix : t->m_prefix)
                                .push_back(tokenId(id, where, "the special token '" + name + "'"));
                    } else {
                        throw InputError(where + ": the post-processor's template has the item " +
                                         item.dump());
                    }
                }
            } else if (ty == "RobertaProcessing" || ty == "BertProcessing") {
                t->m_prefix.push_back(tokenId(p.at("cls").at(1), where, "the cls token"));
                t->m_suffix.push_back(tokenId(p.at("sep").at(1), where, "the sep token"));
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
            const int64_t id =
                tokenId(it.value(), where, "the token '" + it.key().substr(0, 40) + "'");
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

} // namespace HeadLens
