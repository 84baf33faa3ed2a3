// report.h - final JSON report and one-line stdout summary.
//
// Contract:
//   write_report() serialises RunState (after Runner::run/evaluate/close_ports)
//   as one JSON object (format in docs/traffic-tool.md, "Report") to `path`
//   ("-" = stdout); returns false with *err on I/O failure.  summary_line()
//   returns the single line printed on stdout at exit, starting with "SUMMARY ".
//   exit_code() is the process exit code for a finished run (0 pass, 1 fail).
#pragma once

#include <string>

#include "options.h"
#include "runner.h"

namespace vmt {

int exit_code(const RunState& st);
bool write_report(const Options& o, const RunState& st, const std::string& path, std::string* err);
std::string summary_line(const RunState& st);

}  // namespace vmt
