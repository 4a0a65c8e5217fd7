// Certificate and CRL dates for health reporting (XEP/1 §3.5 "tls": client_cert_expires,
// days_left, crl_next_update).
#pragma once
#include <cstdint>
#include <string>

#include "core/base/expected.hpp"
#include "core/base/time.hpp"

struct mbedtls_x509_time;

namespace xnode::tls {

struct CertificateDates {
  TimePoint not_before{};
  TimePoint not_after{};
  std::string subject;
};

// Reads the first certificate of a PEM/DER file.
Expected<CertificateDates> read_certificate_dates(const std::string& path);
// The CRL's nextUpdate (when the CA promises a fresher list).
Expected<TimePoint> read_crl_next_update(const std::string& path);
// Whole days from `now` to `not_after`, rounded down; negative once expired.
std::int64_t days_left(TimePoint not_after, TimePoint now);

// mbedTLS keeps X.509 times as broken-down UTC.
TimePoint x509_time_to_timepoint(const mbedtls_x509_time& t);

}  // namespace xnode::tls
