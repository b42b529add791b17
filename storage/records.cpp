#include "storage/records.hpp"
