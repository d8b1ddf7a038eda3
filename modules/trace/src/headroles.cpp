#include "headlens/trace/headroles.h"

namespace HeadLens {

namespace {
constexpr const char *kRoleNames[kHeadRoleCount] = {"previous_token", "first_token", "self",
                                                    "duplicate_token", "induction"};
} // namespace

const std::array<HeadRole, kHeadRoleCount> &allHeadRoles()
{
    static const std::array<HeadRole, kHeadRoleCount> roles = {
        HeadRole::PreviousToken, HeadRole::FirstToken, HeadRole::Self, HeadRole::DuplicateToken,
        HeadRole::Induction};
    return roles;
}

const char *headRoleName(HeadRole r)
{
    return kRoleNames[static_cast<int>(r)];
}

std::optional<HeadRole> headRoleFromName(const std::string &name)
{
    for (int i = 0; i < kHeadRoleCount; ++i)
        if (name == kRoleNames[i]) return static_cast<HeadRole>(i);
    return std::nullopt;
}

} // namespace HeadLens
