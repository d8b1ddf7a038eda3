// The plain data types: arrays, names of sites and options, relative depth.
#include "headlens/trace/trace.h"

#include <QtTest>

using namespace HeadLens;

class TestTrace : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void arrayIndexing()
    {
        FloatArray a({2, 3, 4});
        QCOMPARE(a.size(), size_t(24));
        a.at({1, 2, 3}) = 5.f;
        QCOMPARE(a.data[23], 5.f);
        QCOMPARE(a.offset({1, 0, 2}), int64_t(14));
        QCOMPARE(a.strides(), (std::vector<int64_t>{12, 4, 1}));
        QVERIFY_THROWS_EXCEPTION(std::out_of_range, a.at({2, 0, 0}));
        QVERIFY_THROWS_EXCEPTION(std::out_of_range, a.at({0, 0}));
        QCOMPARE(shapeString(a.shape), std::string("[2, 3, 4]"));
    }
    void namesRoundTrip()
    {
        for (Site s : allSites())
            QCOMPARE(siteFromName(siteName(s)).value(), s);
        QVERIFY(!siteFromName("resid").has_value());
        QCOMPARE(lensNormFromName("unit").value(), LensNorm::Unit);
        QCOMPARE(lensDecoderFromName("quadratic").value(), LensDecoder::Quadratic);
        QCOMPARE(storeTypeFromName("f16").value(), StoreType::F16);
        QVERIFY(!storeTypeFromName("f64").has_value());
    }
    void depths()
    {
        QCOMPARE(siteDepth(Site::ResidPre, 0, 4), 0.0);
        QCOMPARE(siteDepth(Site::AttnOut, 1, 4), 0.375);
        QCOMPARE(siteDepth(Site::ResidPost, 3, 4), 1.0);
    }
    void isoTime()
    {
        const std::string s = isoNowUtc();
        QCOMPARE(s.size(), size_t(20));
        QCOMPARE(s.back(), 'Z');
    }
};

QTEST_APPLESS_MAIN(TestTrace)
#include "tst_trace.moc"
