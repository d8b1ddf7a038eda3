// CpuFeatures::dtypeNote: the note the engine prints when --dtype bf16 or f16 would run
// emulated, read from /proc/cpuinfo texts of real CPUs.

#include "headlens/model/cpufeatures.h"

#include <QtTest>

using namespace HeadLens;

namespace {

// The lines that matter of /proc/cpuinfo on three machines.
const std::string kIceLake = "processor\t: 0\nvendor_id\t: GenuineIntel\nmodel\t\t: 106\n"
                             "flags\t\t: fpu sse2 avx2 avx512f avx512dq avx512bw avx512vl "
                             "avx512_vnni avx512_bitalg avx512_vpopcntdq\n\n"
                             "processor\t: 1\nflags\t\t: fpu sse2 avx2 avx512f\n";
const std::string kSapphireRapids = "processor\t: 0\nmodel\t\t: 143\nflags\t\t: fpu avx2 avx512f "
                                    "avx512_bf16 avx512_fp16 amx_bf16 amx_tile amx_int8\n";
const std::string kGraniteRapidsAmxOnly = "flags\t\t: fpu avx2 amx_bf16 amx_fp16 amx_tile\n";
const std::string kArm = "processor\t: 0\nBogoMIPS\t: 50.00\nFeatures\t: fp asimd bf16 i8mm\n";

} // namespace

class TestCpuFeatures : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void f32NeedsNoNote()
    {
        for (const std::string *c : {&kIceLake, &kSapphireRapids, &kArm})
            QVERIFY(CpuFeatures::dtypeNote("f32", *c).empty());
    }

    void emulatedDtypesAreNamed()
    {
        const std::string bf16 = CpuFeatures::dtypeNote("bf16", kIceLake);
        QVERIFY(bf16.find("no bf16 instructions") != std::string::npos);
        QVERIFY(bf16.find("AVX512-BF16") != std::string::npos);
        QVERIFY(bf16.find("slower than the default f32") != std::string::npos);
        const std::string f16 = CpuFeatures::dtypeNote("f16", kIceLake);
        QVERIFY(f16.find("no f16 instructions") != std::string::npos);
        QVERIFY(f16.find("AVX512-FP16") != std::string::npos);
    }

    void nativeDtypesNeedNoNote()
    {
        QVERIFY(CpuFeatures::dtypeNote("bf16", kSapphireRapids).empty());
        QVERIFY(CpuFeatures::dtypeNote("f16", kSapphireRapids).empty());
        QVERIFY(CpuFeatures::dtypeNote("bf16", kGraniteRapidsAmxOnly).empty());
        QVERIFY(CpuFeatures::dtypeNote("f16", kGraniteRapidsAmxOnly).empty());
    }

    // Where the text names no x86 flags, nothing is claimed.
    void unknownCpusNeedNoNote()
    {
        QVERIFY(CpuFeatures::dtypeNote("bf16", kArm).empty());
        QVERIFY(CpuFeatures::dtypeNote("bf16", "").empty());
        QVERIFY(CpuFeatures::dtypeNote("bf16", "flags\n").empty());
    }

    // This machine: whatever it is, the note agrees with its own /proc/cpuinfo.
    void thisMachine()
    {
        QFile f("/proc/cpuinfo");
        if (!f.open(QIODevice::ReadOnly)) QSKIP("no /proc/cpuinfo");
        const std::string text = f.readAll().toStdString();
        QCOMPARE(CpuFeatures::dtypeNote("bf16"), CpuFeatures::dtypeNote("bf16", text));
    }
};

QTEST_GUILESS_MAIN(TestCpuFeatures)
#include "tst_cpufeatures.moc"
