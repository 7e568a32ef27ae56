#!/bin/sh
# The command-line tool applies --tenant to every command: a profile id of another tenant is not
# found, and a report says which tenants it covers (or covers only the one given).
# Usage: cli_tenants.sh CLI WORK_DIR
set -u
cli=$1
work=$2
rm -rf "$work" && mkdir -p "$work" || exit 1
"$cli" generate --customers 20 --seed 3 --tenant globex > "$work/globex.jsonl" || exit 1
"$cli" generate --customers 10 --seed 4 --tenant acme > "$work/acme.jsonl" || exit 1
cat "$work/globex.jsonl" "$work/acme.jsonl" > "$work/both.jsonl"
"$cli" replay --events "$work/both.jsonl" --store "$work/store" --quiet > /dev/null || exit 1
profile=$("$cli" context --store "$work/store" --tenant globex --id crm_id:CRM-2 --json |
  sed -n 's/.*"profile":"\(p-[0-9a-f]*\)".*/\1/p')
[ -n "$profile" ] || { echo "no profile id"; exit 1; }
"$cli" context --store "$work/store" --tenant globex --profile "$profile" > /dev/null && echo "globex: found"
"$cli" context --store "$work/store" --tenant acme --profile "$profile"; echo "context in acme: exit $?"
"$cli" explain --store "$work/store" --tenant acme --profile "$profile"; echo "explain in acme: exit $?"
"$cli" context --store "$work/store" --profile "$profile"; echo "context in the default tenant: exit $?"
"$cli" report --store "$work/store" --out "$work/all.html" > /dev/null
grep -o "Tenants covered: [^;<]*" "$work/all.html" | head -1
"$cli" report --store "$work/store" --tenant acme --out "$work/acme.html"
grep -o "Tenant acme only" "$work/acme.html" | head -1
