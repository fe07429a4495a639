// The two Database implementations.
#pragma once
#include "mtown/store/database.hpp"

namespace mtown::store {

std::unique_ptr<Database> open_sqlite(const std::string& path, int timeout_ms);
std::unique_ptr<Database> open_postgres(const std::string& url, int timeout_ms);

}  // namespace mtown::store
