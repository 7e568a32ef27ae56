#!/usr/bin/env bash
# Refreshes the vendored Apache ECharts (third_party/echarts/) from the npm registry. Reports embed
# third_party/echarts/echarts.min.js, so nothing is downloaded when a report is written or viewed.
#   tools/vendor_echarts.sh [VERSION]     (default: the version in third_party/echarts/VERSION)
set -euo pipefail
cd "$(dirname "$0")/.."
version=${1:-$(cat third_party/echarts/VERSION)}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "echarts@$version" >/dev/null && tar xzf echarts-*.tgz)
cp "$work/package/dist/echarts.min.js" "$work/package/LICENSE" "$work/package/NOTICE" \
   "$work/package/licenses/LICENSE-d3" third_party/echarts/
echo "$version" > third_party/echarts/VERSION
echo "third_party/echarts: echarts $version"
