package dev.kinesisoperator.runner;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * Splits a Flink SQL script into statements at the semicolons that end them: not inside
 * '...' strings, `...` or "..." identifiers, -- line comments or /* block comments *&#47;, and
 * not inside an {@code EXECUTE STATEMENT SET BEGIN ... END;} block. Flink's own parser then
 * parses each statement.
 */
final class SqlScript {
    /** One statement, with the script line it starts on (1-based) for error messages. */
    static final class Statement {
        final String text;
        final int line;

        Statement(String text, int line) {
            this.text = text;
            this.line = line;
        }
    }

    private static final Pattern STATEMENT_SET_BLOCK =
            Pattern.compile("^EXECUTE\\s+STATEMENT\\s+SET\\s+BEGIN\\b.*", Pattern.DOTALL);
    private static final Pattern ENDS_WITH_END = Pattern.compile(".*\\bEND\\s*$", Pattern.DOTALL);

    private SqlScript() {}

    static List<Statement> split(String script) {
        List<Statement> out = new ArrayList<>();
        StringBuilder current = new StringBuilder();
        // The statement's code alone (no comments, strings blanked), to recognise blocks and
        // statements that are only comments.
        StringBuilder code = new StringBuilder();
        int line = 1;
        int startLine = -1;
        // Where the statement's first code character is in `current`: leading comments are
        // dropped so that the line numbers in Flink's messages count from the statement.
        int codeStart = 0;
        int n = script.length();
        int i = 0;
        while (i < n) {
            char c = script.charAt(i);
            char next = i + 1 < n ? script.charAt(i + 1) : '\0';
            if (c == '-' && next == '-') {
                int end = script.indexOf('\n', i);
                end = end < 0 ? n : end;
                current.append(script, i, end);
                i = end;
                continue;
            }
            if (c == '/' && next == '*') {
                int end = script.indexOf("*/", i + 2);
                end = end < 0 ? n : end + 2;
                String comment = script.substring(i, end);
                if (comment.startsWith("/*+")) {
                    // A hint is part of the statement.
                    if (startLine < 0) {
                        startLine = line;
                        codeStart = current.length();
                    }
                    code.append(' ');
                }
                current.append(comment);
                line += count(comment, '\n');
                i = end;
                continue;
            }
            if (c == '\'' || c == '`' || c == '"') {
                int end = i + 1;
                while (end < n) {
                    if (script.charAt(end) == c) {
                        if (end + 1 < n && script.charAt(end + 1) == c) {
                            end += 2; // a doubled quote is an escaped quote
                            continue;
                        }
                        break;
                    }
                    end++;
                }
                end = Math.min(end + 1, n);
                String quoted = script.substring(i, end);
                if (startLine < 0) {
                    startLine = line;
                    codeStart = current.length();
                }
                current.append(quoted);
                code.append(c).append(c);
                line += count(quoted, '\n');
                i = end;
                continue;
            }
            if (c == ';') {
                String upper = code.toString().trim().toUpperCase(Locale.ROOT);
                boolean openBlock =
                        STATEMENT_SET_BLOCK.matcher(upper).matches()
                                && !ENDS_WITH_END.matcher(upper).matches();
                if (openBlock) {
                    current.append(c);
                    code.append(c);
                    i++;
                    continue;
                }
                add(out, current.substring(codeStart), code, startLine);
                current.setLength(0);
                code.setLength(0);
                startLine = -1;
                codeStart = 0;
                i++;
                continue;
            }
            if (c == '\n') {
                line++;
            } else if (!Character.isWhitespace(c) && startLine < 0) {
                startLine = line;
                codeStart = current.length();
            }
            current.append(c);
            code.append(c);
            i++;
        }
        if (startLine >= 0) {
            add(out, current.substring(codeStart), code, startLine);
        }
        return out;
    }

    private static void add(List<Statement> out, String text, StringBuilder code, int line) {
        if (line < 0 || code.toString().trim().isEmpty()) {
            return; // only whitespace and comments
        }
        out.add(new Statement(text.trim(), line));
    }

    private static int count(String s, char c) {
        int k = 0;
        for (int i = 0; i < s.length(); i++) {
            if (s.charAt(i) == c) {
                k++;
            }
        }
        return k;
    }
}
