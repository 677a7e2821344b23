// The citydata SQL endpoint is read-only for analysts (docs/sql.md).
//
// Spark has no read-only switch for temporary views, and the Python side of the platform cannot
// see statements that arrive over JDBC, so this SparkSessionExtension checks them inside Spark:
//  - a parser wrapper checks each statement's parsed plan, so a refused statement fails before
//    Spark analyses it, with one clear message whatever Spark would have said;
//  - a check rule checks the analysed plan as well: statements that reach analysis without passing
//    the parser (inside SQL scripts, EXECUTE IMMEDIATE) and expressions that run code (reflect).
// Only statements from an analyst are checked: those run by the Thrift server's threads (named
// "HiveServer2-Handler-Pool: …" and "HiveServer2-Background-Pool: …", checked with Spark 4.3.0)
// and those the platform marks with the thread-local property citydata.sql.analyst=true (the one-off
// `citydata sql` query). The platform's own (re-)registration of the lakehouse views runs on the
// driver's Python thread and is not checked.
//
// What an analyst may run: queries; SHOW / DESCRIBE / EXPLAIN; SET, RESET, USE; CACHE / UNCACHE /
// CLEAR CACHE / REFRESH; session variables; LIST; temporary views under a new name (and replacing
// or dropping those again). Everything else is refused: an allow-list, so a statement Spark adds
// later is refused until someone decides it only reads.
package citydata.sql.readonly

import java.util.Locale
import java.util.concurrent.ConcurrentHashMap

import org.apache.spark.sql.{AnalysisException, SparkSession, SparkSessionExtensions}
import org.apache.spark.sql.catalyst.{FunctionIdentifier, TableIdentifier}
import org.apache.spark.sql.catalyst.analysis.{LocalTempView, UnresolvedIdentifier, UnresolvedRelation,
  UnresolvedTable, UnresolvedTableOrView, UnresolvedView}
import org.apache.spark.sql.catalyst.expressions.Expression
import org.apache.spark.sql.catalyst.parser.{ParameterContext, ParserInterface, SqlStatementSplitResult}
import org.apache.spark.sql.catalyst.plans.logical.{CacheTableAsSelect, Command, CompoundPlanStatement, DropView,
  InsertIntoStatement, LogicalPlan, ParsedStatement, ScriptTransformation, SubqueryAlias}
import org.apache.spark.sql.execution.command.{CreateViewCommand, DropTempViewCommand, SetCommand}
import org.apache.spark.sql.execution.datasources.CreateTempViewUsing
import org.apache.spark.sql.types.{DataType, StructType}

/** `spark.sql.extensions=citydata.sql.readonly.ReadOnlyExtension`. */
class ReadOnlyExtension extends (SparkSessionExtensions => Unit) {
  override def apply(extensions: SparkSessionExtensions): Unit = {
    extensions.injectParser((session, delegate) => new ReadOnlyParser(session, delegate))
    extensions.injectCheckRule(session => (plan: LogicalPlan) => ReadOnly.checkAnalyzed(session, plan))
  }
}

object ReadOnly {
  val AnalystProperty = "citydata.sql.analyst"
  private val Default = "lakehouse tables change only through the pipeline"

  // Commands that read, describe or change only the shared session (parsed and analysed names).
  private val Allowed: Set[String] = Set(
    "ShowTables", "ShowTablesCommand", "ShowTablesExtended", "ShowTablesJsonCommand", "ShowTablePartition",
    "ShowViews", "ShowViewsCommand", "ShowColumns", "ShowColumnsCommand", "ShowFunctions", "ShowFunctionsCommand",
    "ShowNamespacesCommand", "ShowCatalogsCommand", "ShowCurrentNamespaceCommand", "ShowCreateTable",
    "ShowCreateTableCommand", "ShowCreateTableAsSerdeCommand", "ShowTableProperties", "ShowTablePropertiesCommand",
    "ShowPartitions", "ShowPartitionsCommand", "ShowPartitionsJsonCommand", "ShowCollationsCommand",
    "ShowProceduresCommand",
    "DescribeRelation", "DescribeTableCommand", "DescribeRelationJsonCommand", "DescribeColumn",
    "DescribeColumnCommand", "DescribeFunction", "DescribeFunctionCommand", "DescribeNamespace",
    "DescribeDatabaseCommand", "DescribeQueryCommand", "DescribeTablePartition", "DescribeProcedureCommand",
    "ExplainCommand",
    "SetCommand", "ResetCommand", "SetCatalogAndNamespace", "SetNamespaceCommand", "SetCatalogCommand",
    "CacheTable", "UncacheTable", "ClearCacheCommand", "RefreshTable", "RefreshTableCommand",
    "CreateVariable", "DropVariable", "SetVariable",
    "ListFilesCommand", "ListJarsCommand", "ListArchivesCommand")
  // Plan nodes that write but are not Commands.
  private val Writes: Set[String] = Set("InsertIntoStatement", "InsertIntoDir", "UnresolvedInsert")
  // How a refused statement is named in the message (otherwise its plan node's name, in words).
  private val Actions: Map[String, String] = Map(
    "InsertIntoDir" -> "INSERT OVERWRITE DIRECTORY", "DeleteFromTable" -> "DELETE FROM", "UpdateTable" -> "UPDATE",
    "MergeIntoTable" -> "MERGE INTO", "AlterViewAs" -> "ALTER VIEW", "CreateTableAsSelect" -> "CREATE TABLE",
    "ReplaceTableAsSelect" -> "REPLACE TABLE", "AddJarsCommand" -> "ADD JAR", "AddFilesCommand" -> "ADD FILE",
    "AddArchivesCommand" -> "ADD ARCHIVE", "CreateTempViewUsing" -> "CREATE TEMPORARY VIEW … USING",
    "CreateNamespace" -> "CREATE DATABASE", "DropNamespace" -> "DROP DATABASE")
  // Reading files by path (`select * from parquet.`/lakehouse/silver/person``) would go around the
  // lakehouse views, which mask personal values for analysts (docs/security.md): the session runs with
  // spark.sql.runSQLOnFiles=false, analysts may not set it, and a path under a file format's name gets
  // a clear message here instead of TABLE_OR_VIEW_NOT_FOUND.
  private val FilesByPathSetting = "spark.sql.runsqlonfiles"
  private val FileFormats: Set[String] = Set(
    "parquet", "orc", "csv", "json", "text", "avro", "xml", "binaryfile", "delta", "libsvm", "image")
  // Expressions that call Java methods by name: a way out of SQL.
  private val Reflection: Set[String] = Set("CallMethodViaReflection", "TryReflect")

  // Temporary views created by analysts (lower case): they may replace or drop these again.
  private val analystViews = ConcurrentHashMap.newKeySet[String]()

  def fromAnalyst(session: SparkSession): Boolean =
    Thread.currentThread.getName.startsWith("HiveServer2-") ||
      "true" == session.sparkContext.getLocalProperty(AnalystProperty)

  /** Refuse the parsed statement if an analyst may not run it. */
  def checkParsed(session: SparkSession, plan: LogicalPlan): Unit =
    if (fromAnalyst(session)) walk(plan)(node => refusal(session, node).foreach(fail))

  /** Refuse the analysed plan if an analyst may not run it; track who owns the views created. */
  def checkAnalyzed(session: SparkSession, plan: LogicalPlan): Unit = {
    if (fromAnalyst(session)) {
      walk(plan) { node =>
        refusal(session, node).foreach(fail)
        node.expressions.foreach(_.foreach { e =>
          if (Reflection.contains(simpleName(e))) {
            fail(s"${e.prettyName}(…) refused (it calls Java code by name)")
          }
        })
      }
    } else {
      // The platform (re)registered a view: it is a lakehouse view again, whoever made the name first.
      plan match {
        case c: CreateViewCommand => analystViews.remove(lower(c.name.table))
        case c: CreateTempViewUsing => analystViews.remove(lower(c.tableIdent.table))
        case _ =>
      }
    }
  }

  private def refusal(session: SparkSession, node: LogicalPlan): Option[String] = node match {
    case c: CreateViewCommand if c.viewType == LocalTempView => createView(session, c.name.table)
    case c: CacheTableAsSelect => createView(session, c.tempViewNameString)
    case c: CreateViewCommand => Some(s"CREATE VIEW ${c.name.unquotedString} refused (only TEMPORARY views)")
    case d: DropView => dropView(session, nameOf(d.child).getOrElse("?"))
    case d: DropTempViewCommand => dropView(session, d.ident.name)
    case _: ScriptTransformation => Some("TRANSFORM … USING refused (it runs a program on the server)")
    case s: SetCommand if s.kv.exists { case (key, value) => value.isDefined && lower(key.trim) == FilesByPathSetting } =>
      Some(s"SET ${s.kv.get._1.trim} refused (reading files by path would go around the views' masking of " +
        "personal values)")
    case u: UnresolvedRelation if u.multipartIdentifier.size == 2 &&
        FileFormats.contains(lower(u.multipartIdentifier.head)) =>
      Some(s"reading files by path refused (${u.multipartIdentifier.head}.`…`: query the lakehouse views, whose " +
        "personal values are masked)")
    case n if Allowed.contains(simpleName(n)) => None
    case _: CompoundPlanStatement => None // a SQL script's blocks and loops: their statements are checked
    case n: Command => Some(s"${describe(n)} refused ($Default)")
    case n: ParsedStatement => Some(s"${describe(n)} refused ($Default)")
    case n if Writes.contains(simpleName(n)) => Some(s"${describe(n)} refused ($Default)")
    case _ => None
  }

  private def createView(session: SparkSession, name: String): Option[String] = {
    val key = lower(name)
    if (!isTempView(session, key) || analystViews.contains(key)) {
      analystViews.add(key)
      None
    } else {
      Some(s"CREATE VIEW $name refused ($name is a lakehouse view: create your own temporary view under a new name)")
    }
  }

  private def dropView(session: SparkSession, name: String): Option[String] = {
    val key = lower(name)
    // The name stays marked after the drop: parse and analysis both check, and a lakehouse view
    // registered later under that name unmarks it (checkAnalyzed).
    if (analystViews.contains(key) || !isTempView(session, key)) {
      None
    } else {
      Some(s"DROP VIEW $name refused ($Default)")
    }
  }

  private def isTempView(session: SparkSession, name: String): Boolean =
    session.sessionState.catalog.getTempView(name).isDefined

  // Spark's error class for a message raised on purpose (raise_error), SQLSTATE P0001: code such as
  // SQL scripting's handlers needs an error class, and Spark offers no way to register one.
  private def fail(reason: String): Nothing =
    throw new AnalysisException("USER_RAISED_EXCEPTION",
      Map("errorMessage" -> s"citydata SQL endpoint is read-only: $reason"))

  /** Every node of the plan: children, subqueries and inner children (CTE definitions, scripts). */
  private def walk(plan: LogicalPlan)(visit: LogicalPlan => Unit): Unit =
    plan.foreachWithSubqueries { node =>
      visit(node)
      node.innerChildren.foreach {
        case inner: LogicalPlan => walk(inner)(visit)
        case _ =>
      }
    }

  private def describe(node: LogicalPlan): String = {
    val action = node match {
      case i: InsertIntoStatement => if (i.overwrite) "INSERT OVERWRITE" else "INSERT INTO"
      case n if Actions.contains(simpleName(n)) => Actions(simpleName(n))
      case n =>
        simpleName(n).stripSuffix("Command").stripSuffix("Statement")
          .replaceAll("([a-z0-9])([A-Z])", "$1 $2").toUpperCase(Locale.ROOT)
    }
    val target = node match {
      case i: InsertIntoStatement => nameOf(i.table)
      case c: CreateTempViewUsing => Some(c.tableIdent.unquotedString)
      case n => n.children.flatMap(nameOf).headOption
    }
    target.map(t => s"$action $t").getOrElse(action)
  }

  private def nameOf(plan: LogicalPlan): Option[String] = plan match {
    case u: UnresolvedIdentifier => Some(u.nameParts.mkString("."))
    case u: UnresolvedRelation => Some(u.multipartIdentifier.mkString("."))
    case u: UnresolvedTable => Some(u.multipartIdentifier.mkString("."))
    case u: UnresolvedView => Some(u.multipartIdentifier.mkString("."))
    case u: UnresolvedTableOrView => Some(u.multipartIdentifier.mkString("."))
    case s: SubqueryAlias => nameOf(s.child)
    case _ => None
  }

  private def simpleName(x: AnyRef): String = x.getClass.getSimpleName.stripSuffix("$")

  private def lower(name: String): String = name.toLowerCase(Locale.ROOT)
}

/** Spark's parser, with analysts' statements checked as they are parsed. */
class ReadOnlyParser(session: SparkSession, delegate: ParserInterface) extends ParserInterface {
  override def parsePlan(sqlText: String): LogicalPlan = {
    val plan = delegate.parsePlan(sqlText)
    ReadOnly.checkParsed(session, plan)
    plan
  }
  override def parsePlanWithParameters(sqlText: String, context: ParameterContext): LogicalPlan = {
    val plan = delegate.parsePlanWithParameters(sqlText, context)
    ReadOnly.checkParsed(session, plan)
    plan
  }
  override def parseQuery(sqlText: String): LogicalPlan = delegate.parseQuery(sqlText)
  override def parseExpression(sqlText: String): Expression = delegate.parseExpression(sqlText)
  override def parseTableIdentifier(sqlText: String): TableIdentifier = delegate.parseTableIdentifier(sqlText)
  override def parseFunctionIdentifier(sqlText: String): FunctionIdentifier =
    delegate.parseFunctionIdentifier(sqlText)
  override def parseMultipartIdentifier(sqlText: String): Seq[String] = delegate.parseMultipartIdentifier(sqlText)
  override def parseTableSchema(sqlText: String): StructType = delegate.parseTableSchema(sqlText)
  override def parseDataType(sqlText: String): DataType = delegate.parseDataType(sqlText)
  override def parseRoutineParam(sqlText: String): StructType = delegate.parseRoutineParam(sqlText)
  override def splitStatements(sqlText: String): SqlStatementSplitResult = delegate.splitStatements(sqlText)
}
