#!/bin/sh
# Install Hearth for the current user, no root needed: the app goes to
# ~/.local/opt/hearth, a `hearth` command to ~/.local/bin, and Hearth appears in
# the applications menu. Run it from the unpacked tarball:  ./install.sh
# Remove it again with:  ./install.sh --uninstall
set -eu
here=$(cd "$(dirname "$0")" && pwd)
data=${XDG_DATA_HOME:-$HOME/.local/share}
opt=$HOME/.local/opt/hearth
bin=$HOME/.local/bin

if [ "${1:-}" = "--uninstall" ]; then
    rm -rf "$opt" "$bin/hearth" "$data/applications/hearth.desktop"
    find "$data/icons/hicolor" -name hearth.png -delete 2>/dev/null || true
    echo "Hearth was removed. Your conversations and models are kept in $data/Hearth."
    exit 0
fi

mkdir -p "$opt" "$bin" "$data/applications"
rm -rf "$opt.new" && cp -R "$here/hearth" "$opt.new" && rm -rf "$opt" && mv "$opt.new" "$opt"
ln -sf "$opt/hearth" "$bin/hearth"
sed "s|^Exec=hearth|Exec=\"$opt/hearth\"|" "$here/hearth.desktop" > "$data/applications/hearth.desktop"
for size in 16 24 32 48 64 128 256 512; do
    mkdir -p "$data/icons/hicolor/${size}x${size}/apps"
    cp "$here/icons/hearth-$size.png" "$data/icons/hicolor/${size}x${size}/apps/hearth.png"
done
command -v update-desktop-database >/dev/null && update-desktop-database "$data/applications" 2>/dev/null || true
echo "Hearth is installed. Open it from your applications menu, or run: $bin/hearth"
