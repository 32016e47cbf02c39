// Starts AWS DynamoDB Local bound to 127.0.0.1 only. The shipped jar (1.11.478) has no host option
// and its Jetty server listens on every interface, so this launcher builds the server the way the
// jar's own ServerRunner does, sets each connector's host to the loopback address and starts it.
// Run as a single-file source program: java -cp DynamoDBLocal.jar DynamoDBLocalLoopback.java -inMemory -port N
import com.amazonaws.services.dynamodbv2.local.main.ServerRunner;
import com.amazonaws.services.dynamodbv2.local.server.DynamoDBProxyServer;
import java.lang.reflect.Field;
import org.eclipse.jetty.server.Connector;
import org.eclipse.jetty.server.Server;

public class DynamoDBLocalLoopback {
    public static void main(String[] args) throws Exception {
        DynamoDBProxyServer proxy = ServerRunner.createServerFromCommandLineArgs(args);
        Field field = DynamoDBProxyServer.class.getDeclaredField("server");
        field.setAccessible(true);
        Server server = (Server) field.get(proxy);
        for (Connector connector : server.getConnectors()) {
            connector.setHost("127.0.0.1");
        }
        proxy.start();
        System.out.println("DynamoDB Local listening on 127.0.0.1");
        proxy.join();
    }
}
