#!/bin/sh
# Make dist/Hearth-VERSION.dmg from dist/Hearth.app (see packaging/README.md).
# Build first on a Mac:  python build.py --with-starter-model
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
version=$(cd "$root" && python3 -c 'import app; print(app.__version__)')
staging=$(mktemp -d)
cp -R "$root/dist/Hearth.app" "$staging/"
ln -s /Applications "$staging/Applications"
hdiutil create -volname "Hearth $version" -srcfolder "$staging" -ov -format UDZO "$root/dist/Hearth-$version.dmg"
rm -rf "$staging"
echo "Wrote dist/Hearth-$version.dmg"
