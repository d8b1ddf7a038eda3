#include "headlens/trace/trace.h"
#include "headlens/trace/error.h"

#include <ctime>
#include <sstream>

namespace HeadLens {

std::string shapeString(const std::vector<int64_t> &shape)
{
    std::ostringstream os;
    os << '[';
    for (size_t i = 0; i < shape.size(); ++i)
        os << (i ? ", " : "") << shape[i];
    os << ']';
    return os.str();
}

namespace {
constexpr const char *kSiteNames[kSiteCount] = {"resid_pre", "attn_out", "resid_mid", "mlp_out",
                                                "resid_post"};
template <typename E, size_t N>
std::optional<E> fromName(const char *const (&names)[N], const std::string &s)
{
    for (size_t i = 0; i < N; ++i)
        if (s == names[i]) return static_cast<E>(i);
    return std::nullopt;
}
constexpr const char *kNormNames[] = {"full", "unit", "none"};
constexpr const char *kDecoderNames[] = {"output", "input", "linear", "quadratic", "tuned"};
constexpr const char *kStoreNames[] = {"none", "f16", "f32"};
constexpr const char *kEditKindNames[] = {"unchanged", "subtract", "inject"};
} // namespace

const char *siteName(Site s)
{
    return kSiteNames[static_cast<int>(s)];
}
std::optional<Site> siteFromName(const std::string &name)
{
    return fromName<Site>(kSiteNames, name);
}
const std::array<Site, kSiteCount> &allSites()
{
    static const std::array<Site, kSiteCount> sites = {
        Site::ResidPre, Site::AttnOut, Site::ResidMid, Site::MlpOut, Site::ResidPost};
    return sites;
}

double siteDepth(Site s, int layer, int nLayers)
{
    const double L = nLayers;
    switch (s) {
    case Site::ResidPre:
        return layer / L;
    case Site::ResidPost:
        return (layer + 1) / L;
    default:
        return (layer + 0.5) / L;
    }
}

const char *editKindName(EditKind k)
{
    return kEditKindNames[static_cast<int>(k)];
}
std::optional<EditKind> editKindFromName(const std::string &name)
{
    return fromName<EditKind>(kEditKindNames, name);
}

std::string freeTraceName(const std::string &base,
                          const std::function<bool(const std::string &)> &taken)
{
    if (!taken(base)) return base;
    for (int n = 2;; ++n) {
        std::string candidate = base + "-" + std::to_string(n);
        if (!taken(candidate)) return candidate;
    }
}

int32_t tokenIdOfText(const std::string &text, const TokenVocabulary &vocab)
{
    for (int32_t id = 0; id < vocab.size; ++id)
        if (vocab.piece(id) == text) return id;
    for (int32_t id = 0; id < vocab.size; ++id)
        if (vocab.readable(id) == text) return id;
    const std::vector<int32_t> ids = vocab.encode(text);
    if (ids.size() != 1)
        throw InputError("\"" + text + "\" is not one token of this model (it is " +
                         std::to_string(ids.size()) + "); give one token or its id");
    return ids[0];
}

const char *lensNormName(LensNorm n)
{
    return kNormNames[static_cast<int>(n)];
}
const char *lensDecoderName(LensDecoder d)
{
    return kDecoderNames[static_cast<int>(d)];
}
const char *storeTypeName(StoreType t)
{
    return kStoreNames[static_cast<int>(t)];
}
std::optional<LensNorm> lensNormFromName(const std::string &s)
{
    return fromName<LensNorm>(kNormNames, s);
}
std::optional<LensDecoder> lensDecoderFromName(const std::string &s)
{
    return fromName<LensDecoder>(kDecoderNames, s);
}
std::optional<StoreType> storeTypeFromName(const std::string &s)
{
    return fromName<StoreType>(kStoreNames, s);
}

bool ModelConfig::operator==(const ModelConfig &o) const
{
    return architecture == o.architecture && nLayers == o.nLayers && nHeads == o.nHeads &&
           nKvHeads == o.nKvHeads && dModel == o.dModel && dHead == o.dHead && dFfn == o.dFfn &&
           vocabSize == o.vocabSize && maxSeqLen == o.maxSeqLen && ropeTheta == o.ropeTheta &&
           ropeScaling == o.ropeScaling && normEps == o.normEps &&
           tiedEmbeddings == o.tiedEmbeddings && attnBias == o.attnBias &&
           attnOutBias == o.attnOutBias && mlpBias == o.mlpBias && activation == o.activation &&
           bosId == o.bosId && eosId == o.eosId;
}

std::vector<int32_t> Trace::tokenIds() const
{
    std::vector<int32_t> ids;
    ids.reserve(tokens.size());
    for (const auto &t : tokens)
        ids.push_back(t.id);
    return ids;
}

std::string Trace::idText(int32_t id) const
{
    auto it = vocab.find(id);
    return it != vocab.end() ? it->second : "[" + std::to_string(id) + "]";
}

std::string isoNowUtc()
{
    std::time_t now = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&now, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

} // namespace HeadLens
