#pragma once
// All of certfleet's crypto in one include: keys (crypto_key.hpp) and CSRs and
// certificates (crypto_cert.hpp).

#include "protocol/crypto/certificate.hpp"
#include "protocol/crypto/key.hpp"
