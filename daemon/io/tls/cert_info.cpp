#include "io/tls/cert_info.hpp"

#include <mbedtls/error.h>

#include "io/tls/mbedtls_compat.hpp"
#include "io/tls/tls_error.hpp"

namespace xnode::tls {

TimePoint x509_time_to_timepoint(const mbedtls_x509_time& t) {
  std::int64_t days = days_from_civil(t.year, static_cast<unsigned>(t.mon), static_cast<unsigned>(t.day));
  std::int64_t seconds = days * 86400 + t.hour * 3600 + t.min * 60 + t.sec;
  return from_unix_ms(seconds * 1000);
}

Expected<CertificateDates> read_certificate_dates(const std::string& path) {
  mbedtls_x509_crt crt;
  mbedtls_x509_crt_init(&crt);
  int ret = mbedtls_x509_crt_parse_file(&crt, path.c_str());
  if (ret != 0) {
    mbedtls_x509_crt_free(&crt);
    return Error("certificate " + path + ": " + (ret < 0 ? mbedtls_text(ret) : std::string("not parseable")));
  }
  CertificateDates d;
  d.not_before = x509_time_to_timepoint(crt.valid_from);
  d.not_after = x509_time_to_timepoint(crt.valid_to);
  char buf[512];
  int n = mbedtls_x509_dn_gets(buf, sizeof buf, &crt.subject);
  if (n > 0) d.subject.assign(buf, static_cast<std::size_t>(n));
  mbedtls_x509_crt_free(&crt);
  return d;
}

Expected<TimePoint> read_crl_next_update(const std::string& path) {
  mbedtls_x509_crl crl;
  mbedtls_x509_crl_init(&crl);
  int ret = mbedtls_x509_crl_parse_file(&crl, path.c_str());
  if (ret != 0) {
    mbedtls_x509_crl_free(&crl);
    return Error("CRL " + path + ": " + mbedtls_text(ret));
  }
  TimePoint next = x509_time_to_timepoint(crl.next_update);
  mbedtls_x509_crl_free(&crl);
  return next;
}

std::int64_t days_left(TimePoint not_after, TimePoint now) {
  std::int64_t ms = to_unix_ms(not_after) - to_unix_ms(now);
  std::int64_t day_ms = 86400LL * 1000;
  return ms >= 0 ? ms / day_ms : -((-ms + day_ms - 1) / day_ms);
}

}  // namespace xnode::tls
