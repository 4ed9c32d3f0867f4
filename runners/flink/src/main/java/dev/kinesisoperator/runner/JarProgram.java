package dev.kinesisoperator.runner;

import org.apache.flink.client.program.PackagedProgram;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.DeploymentOptions;
import org.apache.flink.configuration.PipelineOptions;
import org.apache.flink.util.FlinkUserCodeClassLoaders;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.node.ArrayNode;
import org.apache.flink.shaded.jackson2.com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;

/**
 * A JAR application as Flink's {@code flink run} loads one (PackagedProgram): its entry class
 * from the manifest ({@code program-class}, else {@code Main-Class}), its classes in Flink's
 * user-code class loader (child-first, except Flink's parent-first patterns {@code java.},
 * {@code org.apache.flink.}, logging ...: {@code classloader.parent-first-patterns.default}),
 * the JAR shipped with the job so the task managers load it the same way.
 *
 * <p>Application properties: the AWS library {@code aws-kinesisanalytics-runtime} that user
 * code calls ({@code KinesisAnalyticsRuntime.getApplicationProperties()}) reads the resource
 * {@code config.properties} through its own class loader, whose {@code
 * application_properties_file} names the JSON file of property groups ({@code
 * /etc/flink/application_properties.json} in the library's jar, which only AWS's root-owned
 * image can write). The runner writes the application's groups into a file of the run and
 * puts a small jar holding a {@code config.properties} that names it first on the user code's
 * class path (the client's loader and the job's jars alike): the library runs unchanged and
 * finds the run's properties, with no root and no write outside the run's directory. The
 * user's own {@code config.properties} keys are kept in it.
 */
final class JarProgram {
    /** The resource the library reads. */
    static final String RUNTIME_CONFIG = "config.properties";

    /** Its key naming the properties file (ConfigConstants.APPLICATION_PROPERTIES_FILE). */
    static final String PROPERTIES_FILE_KEY = "application_properties_file";

    /** The entry class the manifest names. */
    final String entryClass;
    /** The user code's class path: the runtime-config jar, then the application's JAR. */
    final List<URL> classpath;

    private JarProgram(String entryClass, List<URL> classpath) {
        this.entryClass = entryClass;
        this.classpath = classpath;
    }

    /**
     * Opens `spec`'s JAR and writes its runtime files (the property groups, the config jar)
     * into `workDir`.
     */
    static JarProgram open(JobSpec spec, Path workDir) throws IOException {
        Path jar = spec.jar.toAbsolutePath();
        String entry;
        Properties userConfig = new Properties();
        try (JarFile file = new JarFile(jar.toFile())) {
            Manifest manifest = file.getManifest();
            entry =
                    manifest == null
                            ? null
                            : attribute(manifest, PackagedProgram.MANIFEST_ATTRIBUTE_ASSEMBLER_CLASS);
            if (entry == null && manifest != null) {
                entry = attribute(manifest, PackagedProgram.MANIFEST_ATTRIBUTE_MAIN_CLASS);
            }
            JarEntry config = file.getJarEntry(RUNTIME_CONFIG);
            if (config != null) {
                try (InputStream in = file.getInputStream(config)) {
                    userConfig.load(in);
                }
            }
        } catch (IOException e) {
            throw new IllegalArgumentException(
                    "The application's code "
                            + spec.jarSource
                            + " is not a JAR file: "
                            + e.getMessage(),
                    e);
        }
        if (entry == null) {
            throw new IllegalArgumentException(
                    "The application's JAR "
                            + spec.jarSource
                            + " names no entry class: neither a 'Main-Class' nor a 'program-class'"
                            + " entry is in its META-INF/MANIFEST.MF. Build it with the main"
                            + " class in the manifest (maven-shade-plugin's ManifestResourceTransformer"
                            + " <mainClass>).");
        }
        Path properties = workDir.resolve("application_properties.json");
        writeProperties(spec.applicationProperties, properties);
        userConfig.setProperty(PROPERTIES_FILE_KEY, properties.toString());
        Path configJar = workDir.resolve("kinesis-analytics-runtime-config.jar");
        try (OutputStream out = Files.newOutputStream(configJar);
                JarOutputStream jarOut = new JarOutputStream(out)) {
            jarOut.putNextEntry(new JarEntry(RUNTIME_CONFIG));
            userConfig.store(jarOut, "the Flink runner's: where the application's properties are");
            jarOut.closeEntry();
        }
        List<URL> classpath = new ArrayList<>();
        classpath.add(configJar.toUri().toURL());
        classpath.add(jar.toUri().toURL());
        return new JarProgram(entry, classpath);
    }

    private static String attribute(Manifest manifest, String name) {
        String v = manifest.getMainAttributes().getValue(name);
        return v == null || v.isBlank() ? null : v.trim();
    }

    /** The groups in AWS's file format: [{"PropertyGroupId": ..., "PropertyMap": {...}}]. */
    private static void writeProperties(Map<String, Map<String, String>> groups, Path file)
            throws IOException {
        ObjectMapper json = new ObjectMapper();
        ArrayNode root = json.createArrayNode();
        for (Map.Entry<String, Map<String, String>> g : groups.entrySet()) {
            ObjectNode group = root.addObject();
            group.put("PropertyGroupId", g.getKey());
            ObjectNode map = group.putObject("PropertyMap");
            g.getValue().forEach(map::put);
        }
        Files.write(file, json.writeValueAsBytes(root));
    }

    /** The run's configuration with this program's jars shipped to the cluster. */
    Configuration configure(Configuration conf) {
        Configuration c = new Configuration(conf);
        List<String> jars = new ArrayList<>();
        for (URL u : classpath) {
            jars.add(u.toString());
        }
        c.set(PipelineOptions.JARS, jars);
        c.set(DeploymentOptions.TARGET, "local");
        c.set(DeploymentOptions.ATTACHED, true);
        return c;
    }

    /** Flink's user-code class loader over the class path, as configured by `conf`. */
    ClassLoader classLoader(Configuration conf) {
        return FlinkUserCodeClassLoaders.create(
                classpath.toArray(new URL[0]), JarProgram.class.getClassLoader(), conf);
    }

    /** The entry class's {@code public static void main(String[])}. */
    Method main(ClassLoader loader) throws ClassNotFoundException, NoSuchMethodException {
        Class<?> c;
        try {
            c = Class.forName(entryClass, false, loader);
        } catch (ClassNotFoundException e) {
            throw new ClassNotFoundException(
                    "The entry class "
                            + entryClass
                            + " named in the JAR's manifest is not in the JAR.",
                    e);
        }
        Method m;
        try {
            m = c.getMethod("main", String[].class);
        } catch (NoSuchMethodException e) {
            throw new NoSuchMethodException(
                    "The entry class " + entryClass + " has no public static void main(String[]).");
        }
        if (!Modifier.isStatic(m.getModifiers())) {
            throw new NoSuchMethodException(
                    "The entry class " + entryClass + "'s main method is not static.");
        }
        return m;
    }
}
