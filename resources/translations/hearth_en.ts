<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="en">
<context>
    <name>AttachedDocuments</name>
    <message numerus="yes">
        <source>Each question brings up to %n passages of {names} (about {tokens} tokens).</source>
        <translation>
            <numerusform>Each question brings up to %n passage of {names} (about {tokens} tokens).</numerusform>
            <numerusform>Each question brings up to %n passages of {names} (about {tokens} tokens).</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>ChatSession</name>
    <message numerus="yes">
        <source>This conversation is longer than the model can read at once: the oldest %n messages were left out of this reply. They are still saved.</source>
        <translation>
            <numerusform>This conversation is longer than the model can read at once: the oldest message was left out of this reply. It is still saved.</numerusform>
            <numerusform>This conversation is longer than the model can read at once: the oldest %n messages were left out of this reply. They are still saved.</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>ChatView</name>
    <message numerus="yes">
        <source>Summary of the oldest %n messages (the model reads it instead of them)</source>
        <translation>
            <numerusform>Summary of the oldest message (the model reads it instead of it)</numerusform>
            <numerusform>Summary of the oldest %n messages (the model reads it instead of them)</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n older messages were left out to fit</source>
        <translation>
            <numerusform>%n older message was left out to fit</numerusform>
            <numerusform>%n older messages were left out to fit</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>ConversationSummaries</name>
    <message numerus="yes">
        <source>The oldest %n messages are summarised: the model now reads the summary instead of them. They are still saved, and the summary can be edited.</source>
        <translation>
            <numerusform>The oldest message is summarised: the model now reads the summary instead of it. It is still saved, and the summary can be edited.</numerusform>
            <numerusform>The oldest %n messages are summarised: the model now reads the summary instead of them. They are still saved, and the summary can be edited.</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>ConversationTransfer</name>
    <message numerus="yes">
        <source>Imported %n conversation(s).</source>
        <translation>
            <numerusform>Imported %n conversation.</numerusform>
            <numerusform>Imported %n conversations.</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n conversation(s) already here gained new messages.</source>
        <translation>
            <numerusform>%n conversation already here gained new messages.</numerusform>
            <numerusform>%n conversations already here gained new messages.</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n were already here.</source>
        <translation>
            <numerusform>%n was already here.</numerusform>
            <numerusform>%n were already here.</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>ConversationTrash</name>
    <message numerus="yes">
        <source>Message deleted, with %n after it.</source>
        <translation>
            <numerusform>Message deleted, with the message after it.</numerusform>
            <numerusform>Message deleted, with the %n messages after it.</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>DiscoverTab</name>
    <message numerus="yes">
        <source>%n repositories found. Pick one to see its files.</source>
        <translation>
            <numerusform>%n repository found. Pick it to see its files.</numerusform>
            <numerusform>%n repositories found. Pick one to see its files.</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>DocumentsButton</name>
    <message numerus="yes">
        <source>Documents (%n)</source>
        <translation>
            <numerusform>Documents (%n)</numerusform>
            <numerusform>Documents (%n)</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>DocumentsTexts</name>
    <message numerus="yes">
        <source>%n file(s)</source>
        <translation>
            <numerusform>%n file</numerusform>
            <numerusform>%n files</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n passage(s)</source>
        <translation>
            <numerusform>%n passage</numerusform>
            <numerusform>%n passages</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>about %n minute(s) left</source>
        <translation>
            <numerusform>about %n minute left</numerusform>
            <numerusform>about %n minutes left</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>Indexing “{name}”: {done} of %n file(s)</source>
        <translation>
            <numerusform>Indexing “{name}”: {done} of %n file</numerusform>
            <numerusform>Indexing “{name}”: {done} of %n files</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>LeftOutNotice</name>
    <message numerus="yes">
        <source>This conversation is longer than the model reads at once: the oldest %n messages were left out of the last reply. They are still saved. The model can summarise them instead, and then reads the summary.</source>
        <translation>
            <numerusform>This conversation is longer than the model reads at once: the oldest message was left out of the last reply. It is still saved. The model can summarise it instead, and then reads the summary.</numerusform>
            <numerusform>This conversation is longer than the model reads at once: the oldest %n messages were left out of the last reply. They are still saved. The model can summarise them instead, and then reads the summary.</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>LibraryWindow</name>
    <message numerus="yes">
        <source>Checking %n file(s)… this reads each whole file once.</source>
        <translation>
            <numerusform>Checking %n file… this reads each whole file once.</numerusform>
            <numerusform>Checking %n files… this reads each whole file once.</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n model(s) from {apps} are already on this computer. Hearth can use them where they are.</source>
        <translation>
            <numerusform>%n model from {apps} is already on this computer. Hearth can use it where it is.</numerusform>
            <numerusform>%n models from {apps} are already on this computer. Hearth can use them where they are.</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n update(s) available. Select a model and press Get update; the current version stays until the new one is verified.</source>
        <translation>
            <numerusform>%n update available. Select the model and press Get update; the current version stays until the new one is verified.</numerusform>
            <numerusform>%n updates available. Select a model and press Get update; the current version stays until the new one is verified.</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>PackActions</name>
    <message numerus="yes">
        <source>It holds %n model(s).</source>
        <translation>
            <numerusform>It holds %n model.</numerusform>
            <numerusform>It holds %n models.</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>TrashDialog</name>
    <message numerus="yes">
        <source>Deleted conversations stay here for %n days, then Hearth deletes them for good.</source>
        <translation>
            <numerusform>Deleted conversations stay here for %n day, then Hearth deletes them for good.</numerusform>
            <numerusform>Deleted conversations stay here for %n days, then Hearth deletes them for good.</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>_Counted</name>
    <message numerus="yes">
        <source>%n more notes did not fit in what the model can read at once.</source>
        <translation>
            <numerusform>%n more note did not fit in what the model can read at once.</numerusform>
            <numerusform>%n more notes did not fit in what the model can read at once.</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n more passages did not fit in what the model can read at once.</source>
        <translation>
            <numerusform>%n more passage did not fit in what the model can read at once.</numerusform>
            <numerusform>%n more passages did not fit in what the model can read at once.</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>_ReplyStatsWords</name>
    <message numerus="yes">
        <source>%n reply tokens</source>
        <translation>
            <numerusform>%n reply token</numerusform>
            <numerusform>%n reply tokens</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <source>%n prompt tokens</source>
        <translation>
            <numerusform>%n prompt token</numerusform>
            <numerusform>%n prompt tokens</numerusform>
        </translation>
    </message>
</context>
</TS>
