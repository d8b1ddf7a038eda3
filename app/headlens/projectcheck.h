#pragma once

#include <QString>

namespace HeadLens {

// Whether a project can be opened: headlens-check (headlenscheck.cpp) reads it in a child
// process first, so that a file that crashes libhdf5 crashes only that process. Where the
// checker is not installed (or HEADLENS_CHECK names none) the check is skipped: ok.
struct ProjectCheck {
    bool ok = true;
    QString problem; // why not, one line
};
ProjectCheck checkProjectInChild(const QString &path, int timeoutMs = 120000);

// The checker: $HEADLENS_CHECK, else headlens-check beside the workbench or in
// ../libexec/headlens; empty when there is none.
QString projectChecker();

} // namespace HeadLens
