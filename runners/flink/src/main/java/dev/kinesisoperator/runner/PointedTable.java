package dev.kinesisoperator.runner;

import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.apache.flink.table.api.Schema;
import org.apache.flink.table.api.TableSchema;
import org.apache.flink.table.catalog.CatalogBaseTable;
import org.apache.flink.table.catalog.CatalogTable;

/**
 * A Kinesis table whose every copy with other options is pointed at the emulator again.
 *
 * <p>Why: options reach a table after its CREATE TABLE too. {@code ALTER TABLE ... SET/RESET}
 * and {@code /*+ OPTIONS(...) *}{@code /} hints make the new options with {@link #copy(Map)} of
 * the catalog table (the planner merges a hint's options into a copy for that one query), so an
 * {@code aws.endpoint} or credentials given there would send the job to AWS. Wrapping the table
 * the catalog keeps makes every such copy go through {@link KinesisTables#pointAtEmulator}.
 */
final class PointedTable implements CatalogTable {
    private final CatalogTable table;
    private final JobSpec spec;

    private PointedTable(CatalogTable table, JobSpec spec) {
        this.table = table;
        this.spec = spec;
    }

    /** {@code table} with its options pointed at the emulator, and every later copy too. */
    static PointedTable of(CatalogTable table, JobSpec spec) {
        CatalogTable inner = table instanceof PointedTable ? ((PointedTable) table).table : table;
        return new PointedTable(inner.copy(KinesisTables.pointAtEmulator(inner.getOptions(), spec)), spec);
    }

    @Override
    public CatalogTable copy(Map<String, String> options) {
        if (!KinesisTables.isKinesis(options)) {
            return table.copy(options);
        }
        return new PointedTable(table.copy(KinesisTables.pointAtEmulator(options, spec)), spec);
    }

    @Override
    public CatalogBaseTable copy() {
        return new PointedTable((CatalogTable) table.copy(), spec);
    }

    @Override
    public boolean isPartitioned() {
        return table.isPartitioned();
    }

    @Override
    public List<String> getPartitionKeys() {
        return table.getPartitionKeys();
    }

    @Override
    public Optional<Long> getSnapshot() {
        return table.getSnapshot();
    }

    @Override
    public Map<String, String> getOptions() {
        return table.getOptions();
    }

    @Override
    @SuppressWarnings("deprecation")
    public TableSchema getSchema() {
        return table.getSchema();
    }

    @Override
    public Schema getUnresolvedSchema() {
        return table.getUnresolvedSchema();
    }

    @Override
    public String getComment() {
        return table.getComment();
    }

    @Override
    public Optional<String> getDescription() {
        return table.getDescription();
    }

    @Override
    public Optional<String> getDetailedDescription() {
        return table.getDetailedDescription();
    }

    @Override
    public Map<String, String> toProperties() {
        return table.toProperties();
    }
}
