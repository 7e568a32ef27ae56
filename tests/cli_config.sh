#!/bin/sh
# The command-line tool reads engine options from --config: the US and Czech examples of
# docs/identity.md give national numbers their region (the other country's national numbers are
# refused), and the multi-country example gives each tenant its own region.
# Usage: cli_config.sh CLI SOURCE_DIR
set -u
cli=$1
src=$2
events="$src/tests/data/config/calls.jsonl"
context() { "$cli" context --events "$events" "$@" 2> /dev/null; }
echo "us:"
context --config "$src/examples/config/us.textproto" --id "phone:(650) 253-0000" | grep -o "email pat@example.com"
context --config "$src/examples/config/us.textproto" --id "phone:+420601123456" > /dev/null; echo "czech national number with the US config: exit $?"
echo "cz:"
context --config "$src/examples/config/cz.textproto" --id "phone:601 123 456" | grep -o "phone +420601123456"
context --config "$src/examples/config/cz.textproto" --id "phone:+1 650 253 0000" | grep -o "email pat@example.com"
context --config "$src/examples/config/cz.textproto" --id "phone:(650) 253-0000" > /dev/null; echo "us national number with the Czech config: exit $?"
echo "multi:"
context --config "$src/examples/config/multi_country.json" --tenant shop-de --id "phone:+4915123456789" | grep -o "phone +4915123456789"
context --config "$src/examples/config/multi_country.json" --tenant shop-de --id "emial:typo@example.com" > /dev/null; echo "rejected type: exit $?"
bad="${TMPDIR:-/tmp}/omnijourney_bad_config.$$.textproto"
printf 'identity { default_phone_region: 7 }\n' > "$bad"
"$cli" context --events "$events" --config "$bad" --id "phone:+16502530000" 2>&1; echo "bad config: exit $?"
rm -f "$bad"
