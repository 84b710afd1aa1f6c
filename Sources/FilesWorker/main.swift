import BlytzData
import Files

ServiceMain.main(functions: Files.functions, migrations: Files.migrations)
