; Inno Setup script for Hearth on Windows (see packaging/README.md).
; Build first:  python build.py --with-starter-model   (one folder: dist\hearth\)
; Then:         iscc packaging\windows\hearth.iss      (writes dist\hearth-setup-VERSION.exe)
; The version is passed in:  iscc /DAppVersion=0.1.0 packaging\windows\hearth.iss
; (build.py prints this line). Needs Inno Setup 6.3 or newer (x64compatible).

#ifndef AppVersion
  #define AppVersion "0.1.0"
#endif

[Setup]
AppId={{6B1E0C8B-4F0A-4C43-9C5E-2E7D7A9E4B11}
AppName=Hearth
AppVersion={#AppVersion}
AppPublisher=Hearth
DefaultDirName={autopf}\Hearth
DefaultGroupName=Hearth
; Per-user by default: no administrator needed; IT staff can choose all users.
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
OutputDir=..\..\dist
OutputBaseFilename=hearth-setup-{#AppVersion}
SetupIconFile=..\..\resources\icons\hearth.ico
UninstallDisplayIcon={app}\hearth.exe
Compression=lzma2
SolidCompression=yes
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
LicenseFile=..\..\LICENSE

[InstallDelete]
; An upgrade replaces the bundle's libraries whole: stale DLLs must not linger.
Type: filesandordirs; Name: "{app}\_internal"

[Files]
; Everything PyInstaller's spec (packaging/hearth.spec) put in the one-folder build.
Source: "..\..\dist\hearth\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{group}\Hearth"; Filename: "{app}\hearth.exe"
; hearth-cli.exe (the console twin, for IT scripts) is installed beside it, without a shortcut.
Name: "{autodesktop}\Hearth"; Filename: "{app}\hearth.exe"; Tasks: desktopicon

[Tasks]
Name: "desktopicon"; Description: "Create a desktop shortcut"; Flags: unchecked

[Run]
Filename: "{app}\hearth.exe"; Description: "Open Hearth now"; Flags: nowait postinstall skipifsilent
